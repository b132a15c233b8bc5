import type { SessionTaintStore, TaintReason, TaintSource } from '../../sessions/types.js';
import type { PgDatabase } from './connection.js';

/** Session taint in PostgreSQL: one row per source, never updated or deleted, visible to every instance at once. */
export class PostgresSessionTaintStore implements SessionTaintStore {
  constructor(private readonly db: PgDatabase) {}

  async sources(session: string, limit: number): Promise<TaintSource[]> {
    const rows = await this.db.query<{ source: string; kind: string; reason: string; at: string; decisionId: string | null }>(
      'SELECT source, kind, reason, at, decision_id AS "decisionId" FROM session_taint WHERE session_id = $1 ORDER BY seq LIMIT $2',
      [session, limit],
    );
    return rows.map((row) => ({
      source: row.source,
      kind: row.kind,
      reason: row.reason as TaintReason,
      at: row.at,
      ...(row.decisionId !== null ? { decisionId: row.decisionId } : {}),
    }));
  }

  async add(session: string, source: TaintSource): Promise<void> {
    await this.db.query('INSERT INTO session_taint (session_id, source, kind, reason, at, decision_id) VALUES ($1, $2, $3, $4, $5, $6)', [
      session, source.source, source.kind, source.reason, source.at, source.decisionId ?? null,
    ]);
  }
}
