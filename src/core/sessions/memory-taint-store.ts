import type { SessionTaintStore, TaintSource } from './types.js';

/** Session taint held in memory, for engines that write nothing (`record: false`: `policy simulate`, `policy test`). */
export class MemorySessionTaintStore implements SessionTaintStore {
  private readonly bySession = new Map<string, TaintSource[]>();

  async sources(session: string, limit: number): Promise<TaintSource[]> {
    return (this.bySession.get(session) ?? []).slice(0, limit).map((s) => ({ ...s }));
  }

  async add(session: string, source: TaintSource): Promise<void> {
    const list = this.bySession.get(session) ?? [];
    list.push({ ...source });
    this.bySession.set(session, list);
  }
}
