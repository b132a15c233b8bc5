import type { Database, Statement } from 'better-sqlite3';
import type { Action } from '../../action.js';
import type { ApprovalRecord, ApprovalStatus, ApprovalStore } from '../../approvals/types.js';
import { isStrings, jsonColumn } from './json-column.js';
import { isPlainObject } from '../../plain-object.js';

interface ApprovalRow {
  id: string;
  decisionId: string;
  actionHash: string;
  agentId: string | null;
  action: string;
  rules: string;
  reason: string;
  requestedAt: string;
  expiresAt: string;
  escalateAt: string | null;
  approvers: string;
  escalateTo: string;
  escalatedAt: string | null;
  status: string;
  decidedAt: string | null;
  decidedBy: string | null;
  comment: string | null;
  consumedAt: string | null;
}

export const COLUMNS = `id, decision_id AS decisionId, action_hash AS actionHash, agent_id AS agentId, action, rules, reason,
  requested_at AS requestedAt, expires_at AS expiresAt, escalate_at AS escalateAt, approvers, escalate_to AS escalateTo,
  escalated_at AS escalatedAt, status, decided_at AS decidedAt, decided_by AS decidedBy, comment, consumed_at AS consumedAt`;

export const STATUSES = new Set<string>(['pending', 'approved', 'denied', 'expired', 'cancelled']);
export const DECISIONS = new Set<string>(['approved', 'denied', 'cancelled']);
const ISO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

type DecideInput = Parameters<ApprovalStore['decide']>[1];

/**
 * Approvals in SQLite (table `approvals`, migration 5). Every statement is prepared once.
 *
 * Status only ever moves away from `pending`, and each change (`decide`, `expireDue`, `escalateDue`, `consume`) runs in
 * one `BEGIN IMMEDIATE` transaction whose UPDATE re-checks the state it changes from, so two processes deciding,
 * sweeping or consuming the same approval at once change it once: the second sees the first's result.
 */
export class SqliteApprovalStore implements ApprovalStore {
  private readonly insertStmt: Statement<unknown[]>;
  private readonly getStmt: Statement<[string], ApprovalRow>;
  private readonly byDecisionStmt: Statement<[string], ApprovalRow>;
  private readonly listStmt: Statement<[string | null, string | null, number], ApprovalRow>;
  private readonly expireOneStmt: Statement<[string, string, string]>;
  private readonly decideStmt: Statement<[string, string, string | null, string, string]>;
  private readonly expireDueStmt: Statement<[string, string], ApprovalRow>;
  private readonly escalateDueStmt: Statement<[string, string, string], ApprovalRow>;
  private readonly anyDueStmt: Statement<[string, string, string], { due: number }>;
  private readonly consumeStmt: Statement<[string, string, string]>;
  private readonly decideTx: (id: string, decision: DecideInput) => ApprovalRecord | null;
  private readonly expireDueTx: (now: string) => ApprovalRecord[];
  private readonly escalateDueTx: (now: string) => ApprovalRecord[];
  private readonly consumeTx: (id: string, actionHash: string, at: string) => boolean;

  constructor(db: Database) {
    this.insertStmt = db.prepare(
      `INSERT INTO approvals (id, decision_id, action_hash, agent_id, action, rules, reason, requested_at, expires_at, escalate_at,
         approvers, escalate_to, escalated_at, status, decided_at, decided_by, comment, consumed_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.getStmt = db.prepare(`SELECT ${COLUMNS} FROM approvals WHERE id = ?`);
    this.byDecisionStmt = db.prepare(`SELECT ${COLUMNS} FROM approvals WHERE decision_id = ?`);
    this.listStmt = db.prepare(`SELECT ${COLUMNS} FROM approvals WHERE (? IS NULL OR status = ?) ORDER BY requested_at DESC, id LIMIT ?`);
    this.expireOneStmt = db.prepare("UPDATE approvals SET status = 'expired', decided_at = ? WHERE id = ? AND status = 'pending' AND expires_at <= ?");
    this.decideStmt = db.prepare("UPDATE approvals SET status = ?, decided_by = ?, comment = ?, decided_at = ? WHERE id = ? AND status = 'pending'");
    this.expireDueStmt = db.prepare(
      `UPDATE approvals SET status = 'expired', decided_at = ? WHERE status = 'pending' AND expires_at <= ? RETURNING ${COLUMNS}`,
    );
    this.escalateDueStmt = db.prepare(
      `UPDATE approvals SET escalated_at = ?
       WHERE status = 'pending' AND escalated_at IS NULL AND escalate_at IS NOT NULL AND escalate_at <= ? AND expires_at > ?
       RETURNING ${COLUMNS}`,
    );
    this.consumeStmt = db.prepare(
      "UPDATE approvals SET consumed_at = ? WHERE id = ? AND action_hash = ? AND status = 'approved' AND consumed_at IS NULL",
    );

    const decide = db.transaction((id: string, d: DecideInput): ApprovalRecord | null => {
      // Past its expiry a pending approval can no longer be decided: it is expired now, and that is the answer.
      if (this.expireOneStmt.run(d.at, id, d.at).changes === 0) this.decideStmt.run(d.status, d.by, d.comment ?? null, d.at, id);
      return this.read(id);
    });
    this.decideTx = (id, d) => decide.immediate(id, d);
    // The sidecar sweeps every second: a plain read first, so a sweep with nothing due takes no write lock.
    this.anyDueStmt = db.prepare(
      `SELECT 1 AS due FROM approvals WHERE status = 'pending'
         AND (expires_at <= ? OR (escalated_at IS NULL AND escalate_at IS NOT NULL AND escalate_at <= ? AND expires_at > ?)) LIMIT 1`,
    );
    const expireDue = db.transaction((now: string) => sortByRequest(this.expireDueStmt.all(now, now).map(toRecord)));
    this.expireDueTx = (now) => expireDue.immediate(now);
    const escalateDue = db.transaction((now: string) => sortByRequest(this.escalateDueStmt.all(now, now, now).map(toRecord)));
    this.escalateDueTx = (now) => escalateDue.immediate(now);
    const consume = db.transaction((id: string, actionHash: string, at: string) => this.consumeStmt.run(at, id, actionHash).changes === 1);
    this.consumeTx = (id, actionHash, at) => consume.immediate(id, actionHash, at);
  }

  async create(r: ApprovalRecord): Promise<void> {
    if (r.status !== 'pending') throw new TypeError(`a new approval must be pending, got ${JSON.stringify(r.status)}`);
    for (const [name, value] of [['requestedAt', r.requestedAt], ['expiresAt', r.expiresAt]] as const) checkTime(value, name);
    if (r.escalateAt !== null) checkTime(r.escalateAt, 'escalateAt');
    this.insertStmt.run(
      r.id,
      r.decisionId,
      r.actionHash,
      r.agentId,
      JSON.stringify(r.action),
      JSON.stringify(r.rules),
      r.reason,
      r.requestedAt,
      r.expiresAt,
      r.escalateAt,
      JSON.stringify(r.approvers),
      JSON.stringify(r.escalateTo),
      r.escalatedAt,
      r.status,
      r.decidedAt,
      r.decidedBy,
      r.comment,
      r.consumedAt,
    );
  }

  async get(id: string): Promise<ApprovalRecord | null> {
    return this.read(id);
  }

  async byDecision(decisionId: string): Promise<ApprovalRecord | null> {
    const row = this.byDecisionStmt.get(decisionId);
    return row === undefined ? null : toRecord(row);
  }

  async list(filter: { status?: ApprovalStatus; limit?: number } = {}): Promise<ApprovalRecord[]> {
    if (filter.status !== undefined && !STATUSES.has(filter.status)) throw new TypeError(`unknown approval status ${JSON.stringify(filter.status)}`);
    if (filter.limit !== undefined && !(Number.isSafeInteger(filter.limit) && filter.limit > 0)) {
      throw new TypeError(`limit must be a positive integer, got ${String(filter.limit)}`);
    }
    const status = filter.status ?? null;
    return this.listStmt.all(status, status, filter.limit ?? -1).map(toRecord);
  }

  async decide(id: string, decision: DecideInput): Promise<ApprovalRecord | null> {
    if (!DECISIONS.has(decision.status)) throw new TypeError(`an approval can be approved, denied or cancelled, not ${JSON.stringify(decision.status)}`);
    if (typeof decision.by !== 'string' || decision.by.trim() === '') throw new TypeError('decide needs the name of who decided (by)');
    checkTime(decision.at, 'at');
    return this.decideTx(id, decision);
  }

  async expireDue(now: string): Promise<ApprovalRecord[]> {
    checkTime(now, 'now');
    return this.anyDue(now) ? this.expireDueTx(now) : [];
  }

  async escalateDue(now: string): Promise<ApprovalRecord[]> {
    checkTime(now, 'now');
    return this.anyDue(now) ? this.escalateDueTx(now) : [];
  }

  /** Whether any pending approval is due to expire or escalate at `now` (read only; the transactions re-check). */
  private anyDue(now: string): boolean {
    return this.anyDueStmt.get(now, now, now) !== undefined;
  }

  async consume(id: string, actionHash: string, at: string): Promise<boolean> {
    checkTime(at, 'at');
    return this.consumeTx(id, actionHash, at);
  }

  private read(id: string): ApprovalRecord | null {
    const row = this.getStmt.get(id);
    return row === undefined ? null : toRecord(row);
  }
}

export function checkTime(value: string, what: string): void {
  if (typeof value !== 'string' || !ISO_TIME.test(value) || Number.isNaN(Date.parse(value))) {
    throw new TypeError(`${what} must be an ISO 8601 UTC time with milliseconds (Date.toISOString()), got ${JSON.stringify(value)}`);
  }
}

export function sortByRequest(records: ApprovalRecord[]): ApprovalRecord[] {
  // RETURNING gives rows in no promised order; callers audit them, so make it stable.
  return records.sort((a, b) => (a.requestedAt < b.requestedAt ? -1 : a.requestedAt > b.requestedAt ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

export function toRecord(row: ApprovalRow): ApprovalRecord {
  return {
    id: row.id,
    decisionId: row.decisionId,
    actionHash: row.actionHash,
    agentId: row.agentId,
    action: jsonColumn<Action>(row.action, { kind: 'unknown', name: 'unreadable' }, isPlainObject),
    rules: jsonColumn<string[]>(row.rules, [], isStrings),
    reason: row.reason,
    requestedAt: row.requestedAt,
    expiresAt: row.expiresAt,
    escalateAt: row.escalateAt,
    approvers: jsonColumn<string[]>(row.approvers, [], isStrings),
    escalateTo: jsonColumn<string[]>(row.escalateTo, [], isStrings),
    escalatedAt: row.escalatedAt,
    // A status this version does not know (a hand-edited row) reads as cancelled: it never authorises anything.
    status: STATUSES.has(row.status) ? (row.status as ApprovalStatus) : 'cancelled',
    decidedAt: row.decidedAt,
    decidedBy: row.decidedBy,
    comment: row.comment,
    consumedAt: row.consumedAt,
  };
}
