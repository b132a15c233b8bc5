import type { Approvals } from '../../core/approvals/service.js';
import { approvalNotFound, openApprovals, type OpenApprovals } from '../approvals.js';

/** What `approvals watch` needs of the Approvals service (which sweeps expiries on every read). */
export type ApprovalSource = Pick<Approvals, 'list' | 'get' | 'decide'>;

/**
 * The approvals of a data folder for a long watch: the database is opened on first use, and until it exists (nothing
 * has asked for an approval yet) reads return nothing and every later read tries again, creating nothing meanwhile.
 *
 * @example
 * const source = new LazyApprovals('.agentguard');
 * try { console.log(await source.list({ status: 'pending' })); } finally { await source.close(); }
 */
export class LazyApprovals implements ApprovalSource {
  private readonly dataDir: string;
  /** The database being opened or open; null until it exists. */
  private opening: Promise<OpenApprovals | null> | null = null;
  private closed = false;
  /** Notifications of the decisions made here, being sent. */
  private sending: Promise<void> = Promise.resolve();

  constructor(dataDir: string) {
    this.dataDir = dataDir;
  }

  async list(filter?: Parameters<Approvals['list']>[0]): ReturnType<Approvals['list']> {
    const open = await this.open();
    return open === null ? [] : open.approvals.list(filter);
  }

  async get(id: string): ReturnType<Approvals['get']> {
    const open = await this.open();
    return open === null ? null : open.approvals.get(id);
  }

  /** Decides, then sends the change's notifications in the background where this shell has the channels' secrets. */
  async decide(id: string, decision: Parameters<Approvals['decide']>[1]): ReturnType<Approvals['decide']> {
    const open = await this.open();
    if (open === null) throw approvalNotFound(id, this.dataDir);
    const record = await open.approvals.decide(id, decision);
    const previous = this.sending;
    this.sending = previous.then(() => open.deliverNow()).then(
      () => undefined,
      () => undefined,
    );
    return record;
  }

  /** Closes the database when it was opened (after the notifications being sent), signing a final audit checkpoint. */
  async close(): Promise<void> {
    this.closed = true;
    await this.sending;
    const open = await this.opening?.catch(() => null);
    this.opening = null;
    if (open) await open.close();
  }

  private async open(): Promise<OpenApprovals | null> {
    if (this.closed) throw new Error('the watched approvals were closed');
    // One opening at a time: a poll and a decision arriving together share it.
    this.opening ??= openApprovals(this.dataDir);
    const opening = this.opening;
    const open = await opening.catch((error: unknown) => {
      if (this.opening === opening) this.opening = null;
      throw error;
    });
    if (open === null && this.opening === opening) this.opening = null;
    return open;
  }
}
