import type { ApprovalRecord, ApprovalStatus, ApprovalStore } from '../../approvals/types.js';
import { checkTime, COLUMNS, DECISIONS, sortByRequest, STATUSES, toRecord } from '../sqlite/approval-store.js';
import { quoteAliases, type PgDatabase } from './connection.js';

const COLS = quoteAliases(COLUMNS);
type DecideInput = Parameters<ApprovalStore['decide']>[1];

/**
 * Approvals in PostgreSQL, shared by every instance. Every change is one conditional UPDATE that re-checks the state
 * it moves from (`status = 'pending'`, `consumed_at IS NULL`), so instances deciding, sweeping or consuming the same
 * approval at once change it once. A decision is visible to every instance as soon as it commits (they read the row).
 */
export class PostgresApprovalStore implements ApprovalStore {
  constructor(
    private readonly db: PgDatabase,
    private readonly notify: (channel: string, payload: string) => Promise<void>,
  ) {}

  async create(r: ApprovalRecord): Promise<void> {
    if (r.status !== 'pending') throw new TypeError(`a new approval must be pending, got ${JSON.stringify(r.status)}`);
    for (const [name, value] of [['requestedAt', r.requestedAt], ['expiresAt', r.expiresAt]] as const) checkTime(value, name);
    if (r.escalateAt !== null) checkTime(r.escalateAt, 'escalateAt');
    await this.db.query(
      `INSERT INTO approvals (id, decision_id, action_hash, agent_id, action, rules, reason, requested_at, expires_at, escalate_at,
         approvers, escalate_to, escalated_at, status, decided_at, decided_by, comment, consumed_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)`,
      [
        r.id, r.decisionId, r.actionHash, r.agentId, JSON.stringify(r.action), JSON.stringify(r.rules), r.reason, r.requestedAt, r.expiresAt,
        r.escalateAt, JSON.stringify(r.approvers), JSON.stringify(r.escalateTo), r.escalatedAt, r.status, r.decidedAt, r.decidedBy, r.comment,
        r.consumedAt,
      ],
    );
  }

  async get(id: string): Promise<ApprovalRecord | null> {
    const row = (await this.db.query(`SELECT ${COLS} FROM approvals WHERE id = $1`, [id]))[0];
    return row === undefined ? null : toRecord(row as never);
  }

  async byDecision(decisionId: string): Promise<ApprovalRecord | null> {
    const row = (await this.db.query(`SELECT ${COLS} FROM approvals WHERE decision_id = $1`, [decisionId]))[0];
    return row === undefined ? null : toRecord(row as never);
  }

  async list(filter: { status?: ApprovalStatus; limit?: number } = {}): Promise<ApprovalRecord[]> {
    if (filter.status !== undefined && !STATUSES.has(filter.status)) throw new TypeError(`unknown approval status ${JSON.stringify(filter.status)}`);
    if (filter.limit !== undefined && !(Number.isSafeInteger(filter.limit) && filter.limit > 0)) {
      throw new TypeError(`limit must be a positive integer, got ${String(filter.limit)}`);
    }
    const rows = await this.db.query(
      `SELECT ${COLS} FROM approvals WHERE ($1::text IS NULL OR status = $1) ORDER BY requested_at DESC, id${filter.limit !== undefined ? ` LIMIT ${filter.limit}` : ''}`,
      [filter.status ?? null],
    );
    return rows.map((row) => toRecord(row as never));
  }

  async decide(id: string, d: DecideInput): Promise<ApprovalRecord | null> {
    if (!DECISIONS.has(d.status)) throw new TypeError(`an approval can be approved, denied or cancelled, not ${JSON.stringify(d.status)}`);
    if (typeof d.by !== 'string' || d.by.trim() === '') throw new TypeError('decide needs the name of who decided (by)');
    checkTime(d.at, 'at');
    // One statement: past its expiry a pending approval becomes expired; before it, it takes the decision.
    await this.db.query(
      `UPDATE approvals SET
         status = CASE WHEN expires_at <= $5 THEN 'expired' ELSE $1 END,
         decided_by = CASE WHEN expires_at <= $5 THEN decided_by ELSE $2 END,
         comment = CASE WHEN expires_at <= $5 THEN comment ELSE $3 END,
         decided_at = $5
       WHERE id = $4 AND status = 'pending'`,
      [d.status, d.by, d.comment ?? null, id, d.at],
    );
    const record = await this.get(id);
    if (record) await this.notify('approvals', id);
    return record;
  }

  async expireDue(now: string): Promise<ApprovalRecord[]> {
    checkTime(now, 'now');
    const rows = await this.db.query(`UPDATE approvals SET status = 'expired', decided_at = $1 WHERE status = 'pending' AND expires_at <= $1 RETURNING ${COLS}`, [now]);
    return sortByRequest(rows.map((row) => toRecord(row as never)));
  }

  async escalateDue(now: string): Promise<ApprovalRecord[]> {
    checkTime(now, 'now');
    const rows = await this.db.query(
      `UPDATE approvals SET escalated_at = $1
       WHERE status = 'pending' AND escalated_at IS NULL AND escalate_at IS NOT NULL AND escalate_at <= $1 AND expires_at > $1
       RETURNING ${COLS}`,
      [now],
    );
    return sortByRequest(rows.map((row) => toRecord(row as never)));
  }

  async consume(id: string, actionHash: string, at: string): Promise<boolean> {
    checkTime(at, 'at');
    const rows = await this.db.query(
      "UPDATE approvals SET consumed_at = $1 WHERE id = $2 AND action_hash = $3 AND status = 'approved' AND consumed_at IS NULL RETURNING id",
      [at, id, actionHash],
    );
    return rows.length === 1;
  }
}
