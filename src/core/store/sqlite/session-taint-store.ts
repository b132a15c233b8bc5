import type { Database, Statement } from 'better-sqlite3';
import type { SessionTaintStore, TaintReason, TaintSource } from '../../sessions/types.js';

interface TaintRow {
  source: string;
  kind: string;
  reason: string;
  at: string;
  decisionId: string | null;
}

/** Session taint in SQLite (table `session_taint`, migration 12): one row per source, never updated or deleted. */
export class SqliteSessionTaintStore implements SessionTaintStore {
  private readonly selectStmt: Statement<[string, number], TaintRow>;
  private readonly insertStmt: Statement<[string, string, string, string, string, string | null]>;

  constructor(db: Database) {
    this.selectStmt = db.prepare(
      'SELECT source, kind, reason, at, decision_id AS decisionId FROM session_taint WHERE session_id = ? ORDER BY seq LIMIT ?',
    );
    this.insertStmt = db.prepare('INSERT INTO session_taint (session_id, source, kind, reason, at, decision_id) VALUES (?, ?, ?, ?, ?, ?)');
  }

  async sources(session: string, limit: number): Promise<TaintSource[]> {
    return this.selectStmt.all(session, limit).map((row) => ({
      source: row.source,
      kind: row.kind,
      reason: row.reason as TaintReason,
      at: row.at,
      ...(row.decisionId !== null ? { decisionId: row.decisionId } : {}),
    }));
  }

  async add(session: string, source: TaintSource): Promise<void> {
    this.insertStmt.run(session, source.source, source.kind, source.reason, source.at, source.decisionId ?? null);
  }
}
