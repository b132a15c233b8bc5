import type { Database, Statement } from 'better-sqlite3';
import type { DeliveryOutcome, DeliveryRecord, DeliveryStatus, DeliveryStore } from '../../approvals/deliveries.js';
import type { ApprovalChange } from '../../approvals/types.js';
import { maskText } from '../../audit/mask.js';
import { jsonColumn } from './json-column.js';
import { isPlainObject } from '../../plain-object.js';

interface DeliveryRow {
  id: string;
  approvalId: string;
  channel: string;
  event: string;
  change: string;
  status: string;
  attempts: number;
  createdAt: string;
  nextAttemptAt: string;
  lastAttemptAt: string | null;
  lastStatus: number | null;
  lastError: string | null;
  deliveredAt: string | null;
}

export const COLUMNS = `id, approval_id AS approvalId, channel, event, change, status, attempts, created_at AS createdAt,
  next_attempt_at AS nextAttemptAt, last_attempt_at AS lastAttemptAt, last_status AS lastStatus, last_error AS lastError,
  delivered_at AS deliveredAt`;

export const STATUSES = new Set<string>(['pending', 'delivered', 'failed']);

/**
 * The approval notification outbox in SQLite (table `approval_deliveries`, migration 6). Claiming runs in one
 * `BEGIN IMMEDIATE` transaction that re-checks the hold, so deliverers in several processes never send a row twice
 * at once; a deliverer that dies holding rows only delays them until the hold runs out.
 */
export class SqliteDeliveryStore implements DeliveryStore {
  private readonly insertStmt: Statement<unknown[]>;
  private readonly dueStmt: Statement<[string, string, string, number], { id: string }>;
  private readonly claimStmt: Statement<[string, string, string, string]>;
  private readonly getStmt: Statement<[string], DeliveryRow>;
  private readonly finishStmt: Statement<unknown[]>;
  private readonly listStmt: Statement<unknown[], DeliveryRow>;
  private readonly retryAllStmt: Statement<[string]>;
  private readonly retryOneStmt: Statement<[string, string]>;
  private readonly enqueueTx: (records: DeliveryRecord[]) => void;
  private readonly claimTx: (now: string, leaseUntil: string, limit: number, channels: string) => DeliveryRecord[];
  private readonly retryTx: (now: string, ids?: readonly string[]) => number;

  constructor(db: Database) {
    this.insertStmt = db.prepare(
      `INSERT INTO approval_deliveries (id, approval_id, channel, event, change, status, attempts, created_at, next_attempt_at,
         lease_until, last_attempt_at, last_status, last_error, delivered_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?, ?, ?)`,
    );
    this.dueStmt = db.prepare(
      `SELECT id FROM approval_deliveries WHERE status = 'pending' AND next_attempt_at <= ? AND (lease_until IS NULL OR lease_until <= ?)
         AND channel IN (SELECT value FROM json_each(?))
       ORDER BY next_attempt_at, id LIMIT ?`,
    );
    this.claimStmt = db.prepare(
      `UPDATE approval_deliveries SET lease_until = ?, attempts = attempts + 1, last_attempt_at = ?
       WHERE id = ? AND status = 'pending' AND (lease_until IS NULL OR lease_until <= ?)`,
    );
    this.getStmt = db.prepare(`SELECT ${COLUMNS} FROM approval_deliveries WHERE id = ?`);
    this.finishStmt = db.prepare(
      `UPDATE approval_deliveries SET status = ?, lease_until = NULL, last_status = ?, last_error = ?, next_attempt_at = ?, delivered_at = ?
       WHERE id = ?`,
    );
    this.listStmt = db.prepare(
      `SELECT ${COLUMNS} FROM approval_deliveries WHERE (? IS NULL OR approval_id = ?) AND (? IS NULL OR status = ?)
       ORDER BY created_at DESC, id DESC LIMIT ?`,
    );
    this.retryAllStmt = db.prepare("UPDATE approval_deliveries SET status = 'pending', attempts = 0, next_attempt_at = ?, lease_until = NULL WHERE status = 'failed'");
    this.retryOneStmt = db.prepare(
      "UPDATE approval_deliveries SET status = 'pending', attempts = 0, next_attempt_at = ?, lease_until = NULL WHERE status = 'failed' AND id = ?",
    );
    const enqueue = db.transaction((records: DeliveryRecord[]) => {
      for (const r of records) {
        this.insertStmt.run(r.id, r.approvalId, r.channel, r.event, JSON.stringify(r.change), r.status, r.attempts, r.createdAt, r.nextAttemptAt,
          r.lastAttemptAt, r.lastStatus, r.lastError, r.deliveredAt);
      }
    });
    this.enqueueTx = (records) => enqueue.immediate(records);
    const claim = db.transaction((now: string, leaseUntil: string, limit: number, channels: string) => {
      const claimed: DeliveryRecord[] = [];
      for (const { id } of this.dueStmt.all(now, now, channels, limit)) {
        if (this.claimStmt.run(leaseUntil, now, id, now).changes === 1) claimed.push(toRecord(this.getStmt.get(id)!));
      }
      return claimed;
    });
    this.claimTx = (now, leaseUntil, limit, channels) => claim.immediate(now, leaseUntil, limit, channels);
    const retry = db.transaction((now: string, ids?: readonly string[]) =>
      ids === undefined ? this.retryAllStmt.run(now).changes : ids.reduce((n, id) => n + this.retryOneStmt.run(now, id).changes, 0),
    );
    this.retryTx = (now, ids) => retry.immediate(now, ids);
  }

  async enqueue(records: DeliveryRecord[]): Promise<void> {
    if (records.length > 0) this.enqueueTx(records);
  }

  async claimDue(now: string, leaseUntil: string, limit: number, channels: readonly string[]): Promise<DeliveryRecord[]> {
    if (channels.length === 0) return [];
    return this.claimTx(now, leaseUntil, limit, JSON.stringify(channels));
  }

  async finish(id: string, outcome: DeliveryOutcome): Promise<void> {
    // A receiver's error text can echo what it was sent or a URL with a token in it.
    const error = outcome.status === 'delivered' || outcome.error === null || outcome.error === undefined ? null : maskText(outcome.error);
    const next = outcome.status === 'pending' ? outcome.nextAttemptAt : outcome.at;
    const delivered = outcome.status === 'delivered' ? outcome.at : null;
    this.finishStmt.run(outcome.status, outcome.httpStatus, error, next, delivered, id);
  }

  async list(filter: { approvalId?: string; status?: DeliveryStatus; limit?: number } = {}): Promise<DeliveryRecord[]> {
    if (filter.status !== undefined && !STATUSES.has(filter.status)) throw new TypeError(`unknown delivery status ${JSON.stringify(filter.status)}`);
    const approval = filter.approvalId ?? null;
    const status = filter.status ?? null;
    return this.listStmt.all(approval, approval, status, status, filter.limit ?? -1).map(toRecord);
  }

  async retryFailed(now: string, ids?: readonly string[]): Promise<number> {
    return this.retryTx(now, ids);
  }
}

export function toRecord(row: DeliveryRow): DeliveryRecord {
  const unreadable = { event: row.event as ApprovalChange['event'], approval: { id: row.approvalId } as ApprovalChange['approval'] };
  const change = jsonColumn<ApprovalChange>(row.change, unreadable, isPlainObject);
  return {
    id: row.id,
    approvalId: row.approvalId,
    channel: row.channel,
    event: row.event as ApprovalChange['event'],
    change,
    // An unknown status (a hand-edited row) reads as failed: visible, never silently dropped.
    status: STATUSES.has(row.status) ? (row.status as DeliveryStatus) : 'failed',
    attempts: row.attempts,
    createdAt: row.createdAt,
    nextAttemptAt: row.nextAttemptAt,
    lastAttemptAt: row.lastAttemptAt,
    lastStatus: row.lastStatus,
    lastError: row.lastError,
    deliveredAt: row.deliveredAt,
  };
}
