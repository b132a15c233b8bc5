import { canonicalJson } from '../../src/core/canonical-json.js';
import { GENESIS_HASH, hashRecord } from '../../src/core/audit/chain.js';
import type { AuditEntry, AuditQuery, AuditRecord, Checkpoint } from '../../src/core/audit/types.js';
import type { AuditStore, SignHead, StoredAuditRow } from '../../src/core/store/store.js';

/**
 * An array-backed AuditStore for unit tests: records are chained and hashed like the real store's, and queries
 * follow the same rules (since inclusive, until exclusive, newest first unless order is asc).
 */
export class MemoryAuditStore implements AuditStore {
  readonly records: AuditRecord[] = [];
  private readonly saved: Checkpoint[] = [];

  async append(entries: AuditEntry[]): Promise<AuditRecord[]> {
    const out: AuditRecord[] = [];
    for (const entry of entries) {
      const last = this.records[this.records.length - 1];
      const unhashed = { ...structuredClone(entry), seq: (last?.seq ?? 0) + 1, prevHash: last?.hash ?? GENESIS_HASH };
      const record: AuditRecord = { ...unhashed, hash: hashRecord(unhashed.prevHash, unhashed) };
      this.records.push(record);
      out.push(structuredClone(record));
    }
    return out;
  }

  async head(): Promise<{ seq: number; hash: string } | null> {
    const last = this.records[this.records.length - 1];
    return last ? { seq: last.seq, hash: last.hash } : null;
  }

  async query(filter: AuditQuery): Promise<AuditRecord[]> {
    let rows = this.records.filter(
      (r) =>
        (filter.agent === undefined || r.agentId === filter.agent) &&
        (filter.effect === undefined || r.effect === filter.effect) &&
        (filter.type === undefined || r.type === filter.type) &&
        (filter.decisionId === undefined || r.decisionId === filter.decisionId) &&
        (filter.rule === undefined || r.rules.includes(filter.rule)) &&
        (filter.since === undefined || r.time >= filter.since) &&
        (filter.until === undefined || r.time < filter.until) &&
        (filter.afterSeq === undefined || r.seq > filter.afterSeq),
    );
    if (filter.order !== 'asc') rows = rows.reverse();
    if (filter.limit !== undefined) rows = rows.slice(0, filter.limit);
    return structuredClone(rows);
  }

  async *scan(fromSeq?: number): AsyncIterable<AuditRecord> {
    for (const r of this.records) if (fromSeq === undefined || r.seq >= fromSeq) yield structuredClone(r);
  }

  async *rows(options: { pageSize?: number } = {}): AsyncIterable<StoredAuditRow[]> {
    const size = options.pageSize ?? 2048;
    for (let i = 0; i < this.records.length; i += size) {
      yield this.records.slice(i, i + size).map((r) => ({ ...r, rules: canonicalJson(r.rules), data: canonicalJson(r.data) }));
    }
  }

  async count(): Promise<number> {
    return this.records.length;
  }

  async addCheckpoint(checkpoint: Checkpoint): Promise<void> {
    this.saved.push(checkpoint);
  }

  async signHead(sign: SignHead): Promise<Checkpoint | null> {
    const latest = this.saved.reduce<Checkpoint | null>((best, c) => (!best || (c.n ?? 0) >= (best.n ?? 0) ? c : best), null);
    const checkpoint = sign(await this.head(), latest);
    if (checkpoint) this.saved.push(checkpoint);
    return checkpoint;
  }

  async checkpoints(): Promise<Checkpoint[]> {
    return [...this.saved];
  }
}
