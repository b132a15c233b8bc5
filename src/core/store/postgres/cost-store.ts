import { randomBytes } from 'node:crypto';
import type { BudgetFigures, BudgetWindow, CostScope, CostStore, LedgerEntry, PriceSource, ReserveResult } from '../../cost/types.js';
import { checkEntry, checkId, checkNano, invalid, isoTime, normalizeWindow, SCOPE_COLUMN, toNumber } from '../sqlite/cost-store.js';
import type { PgDatabase, Tx } from './connection.js';

type ReserveRequest = Parameters<CostStore['reserve']>[0];

const LEDGER_COLUMNS = `time, decision_id AS "decisionId", agent_id AS "agentId", project, user_id AS "userId", session_id AS "sessionId",
  provider, model, input_tokens::text AS "inputTokens", output_tokens::text AS "outputTokens", cache_read_tokens::text AS "cacheReadTokens",
  cache_write_tokens::text AS "cacheWriteTokens", cache_write_1h_tokens::text AS "cacheWrite1hTokens", reasoning_tokens::text AS "reasoningTokens",
  cost_nano::text AS "costNano", estimated, priced`;

/**
 * The cost ledger, budget reservations and alerts in PostgreSQL, shared by every instance on the database.
 *
 * `reserve` never overspends across instances: in one transaction it takes an advisory transaction lock per budget
 * window (in key order, so two reservers never deadlock), then reads committed spend and live reservations of every
 * window in ONE statement (one snapshot, taken after the locks: a settle committing in between is counted once, as
 * ledger or as reservation, never as neither), and inserts the reservation only when every window still fits. Two
 * reservers of a window are serialised; reservers of unrelated windows are not. There is no in-memory counter and no
 * periodic sync: every check reads the database.
 *
 * `settle` is exactly once per decision id (the idempotency key): the ledger row is inserted with ON CONFLICT DO NOTHING
 * and the reservation deleted in the same transaction, so a retried settle writes nothing more. Spend is always the sum
 * of ledger rows, never a counter re-seeded from elsewhere. An expired reservation stops counting at its expiry.
 */
export class PostgresCostStore implements CostStore {
  constructor(private readonly db: PgDatabase) {}

  async reserve(request: ReserveRequest): Promise<ReserveResult> {
    checkId(request.decisionId, 'decisionId');
    checkNano(request.amountNano, 'amountNano');
    const windows = request.windows.map(normalizeWindow);
    const now = isoTime(request.now, 'now');
    const expiresAt = isoTime(request.expiresAt, 'expiresAt');
    const { decisionId, scope, amountNano } = request;
    for (const w of windows) {
      if (w.scope !== 'global' && scope[w.scope] !== w.value) {
        throw invalid(`window ${w.key} does not apply to this call (its ${w.scope} is ${JSON.stringify(scope[w.scope])}); reserve only in the windows windowsFor returns`);
      }
    }
    return this.db.transaction(async (tx) => {
      for (const key of [...new Set(windows.map((w) => w.key))].sort()) {
        await tx.query("SELECT pg_advisory_xact_lock(hashtextextended('agentguard.budget.' || $1, 0))", [key]);
      }
      const held = await tx.query<{ r: number; l: number }>(
        'SELECT (SELECT count(*) FROM cost_reservations WHERE decision_id = $1)::int AS r, (SELECT count(*) FROM cost_ledger WHERE decision_id = $1)::int AS l',
        [decisionId],
      );
      if (held[0].r > 0) throw invalid(`decision ${decisionId} already holds a budget reservation; a decision reserves once`);
      if (held[0].l > 0) throw invalid(`decision ${decisionId} is already settled in the cost ledger; it cannot reserve again`);
      const measured = await measure(tx, windows, now);
      const amount = BigInt(amountNano);
      const figures = measured.map((m) => m.figures);
      const exceeded = measured.filter((m) => m.spent + m.reserved + amount > BigInt(m.figures.limitNano)).map((m) => m.figures);
      if (exceeded.length > 0) return { ok: false, exceeded, figures };
      const reservationId = `res_${randomBytes(12).toString('hex')}`;
      await tx.query(
        `INSERT INTO cost_reservations (id, decision_id, agent_id, project, user_id, session_id, amount_nano, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
        [reservationId, decisionId, scope.agent, scope.project, scope.user, scope.session, amountNano, now, expiresAt],
      );
      // Expired reservations count for nothing; removing them here keeps the table small.
      await tx.query('DELETE FROM cost_reservations WHERE expires_at <= $1', [now]);
      return { ok: true, reservationId, figures: measured.map((m) => ({ ...m.figures, reservedNano: toNumber(m.reserved + amount) })) };
    });
  }

  async settle(entry: LedgerEntry): Promise<void> {
    const e = checkEntry(entry);
    const t = e.tokens;
    await this.db.transaction(async (tx) => {
      await tx.query(
        `INSERT INTO cost_ledger (time, decision_id, agent_id, project, user_id, session_id, provider, model, input_tokens, output_tokens,
           cache_read_tokens, cache_write_tokens, cache_write_1h_tokens, reasoning_tokens, cost_nano, estimated, priced)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) ON CONFLICT (decision_id) DO NOTHING`,
        [
          e.time, e.decisionId, e.scope.agent, e.scope.project, e.scope.user, e.scope.session, e.provider, e.model,
          t.inputTokens, t.outputTokens, t.cacheReadInputTokens, t.cacheCreationInputTokens, t.cacheCreation1hInputTokens ?? null,
          t.reasoningTokens ?? null, e.costNano, e.estimated, e.priced,
        ],
      );
      await tx.query('DELETE FROM cost_reservations WHERE decision_id = $1', [e.decisionId]);
    });
  }

  async figures(windows: BudgetWindow[], now: string): Promise<BudgetFigures[]> {
    const normalized = windows.map(normalizeWindow);
    const at = isoTime(now, 'now');
    return (await measure(this.db, normalized, at)).map((m) => m.figures);
  }

  async ledger(filter: { since?: string; until?: string; limit?: number }): Promise<LedgerEntry[]> {
    const since = filter.since === undefined ? '' : isoTime(filter.since, 'since');
    if (filter.limit !== undefined && !(Number.isSafeInteger(filter.limit) && filter.limit > 0)) {
      throw invalid(`limit must be a positive integer (got ${String(filter.limit)})`);
    }
    const values: unknown[] = [since];
    let where = 'time >= $1';
    if (filter.until !== undefined) {
      values.push(isoTime(filter.until, 'until'));
      where += ' AND time < $2';
    }
    const rows = await this.db.query<Record<string, unknown>>(
      `SELECT ${LEDGER_COLUMNS} FROM cost_ledger WHERE ${where} ORDER BY time, id${filter.limit !== undefined ? ` LIMIT ${filter.limit}` : ''}`,
      values,
    );
    return rows.map(toEntry);
  }

  async markAlert(key: string, periodStart: string, threshold: number, time: string): Promise<boolean> {
    if (!Number.isFinite(threshold)) throw invalid(`alert threshold must be a finite number (got ${String(threshold)})`);
    const rows = await this.db.query(
      'INSERT INTO cost_alerts (key, period_start, threshold, time) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING RETURNING 1',
      [key, isoTime(periodStart, 'periodStart'), threshold, isoTime(time, 'time')],
    );
    return rows.length > 0;
  }
}

interface Measured {
  spent: bigint;
  reserved: bigint;
  figures: BudgetFigures;
}

/** Committed spend and live reservations of every window, read in one statement (one snapshot). */
async function measure(db: Pick<Tx, 'query'>, windows: BudgetWindow[], now: string): Promise<Measured[]> {
  if (windows.length === 0) return [];
  const values: unknown[] = [now];
  const param = (v: unknown) => {
    values.push(v);
    return `$${values.length}`;
  };
  const parts = windows.map((w, i) => {
    const column = SCOPE_COLUMN[w.scope];
    const match = column === null ? '' : ` AND ${column} = ${param(w.value)}`;
    const end = w.periodEnd === null ? '' : ` AND time < ${param(w.periodEnd)}`;
    return `SELECT ${i} AS i,
      (SELECT COALESCE(SUM(cost_nano), 0) FROM cost_ledger WHERE time >= ${param(w.periodStart)}${end}${match})::text AS spent,
      (SELECT COALESCE(SUM(amount_nano), 0) FROM cost_reservations WHERE expires_at > $1${match})::text AS reserved`;
  });
  const rows = await db.query<{ i: number; spent: string; reserved: string }>(parts.join(' UNION ALL '), values);
  const byIndex = new Map(rows.map((r) => [Number(r.i), r]));
  return windows.map((w, i) => {
    const row = byIndex.get(i)!;
    const spent = BigInt(row.spent);
    const reserved = BigInt(row.reserved);
    return {
      spent,
      reserved,
      figures: {
        key: w.key,
        name: w.name,
        limitNano: w.limitNano,
        spentNano: toNumber(spent),
        reservedNano: toNumber(reserved),
        periodStart: w.periodStart,
        periodEnd: w.periodEnd,
      },
    };
  });
}

function toEntry(row: Record<string, unknown>): LedgerEntry {
  const n = (v: unknown) => Number(v);
  const scope: CostScope = { agent: row.agentId as string | null, project: row.project as string | null, user: row.userId as string | null, session: row.sessionId as string | null };
  return {
    time: row.time as string,
    decisionId: row.decisionId as string,
    scope,
    provider: row.provider as string,
    model: row.model as string,
    tokens: {
      inputTokens: n(row.inputTokens),
      outputTokens: n(row.outputTokens),
      cacheReadInputTokens: n(row.cacheReadTokens),
      cacheCreationInputTokens: n(row.cacheWriteTokens),
      ...(row.cacheWrite1hTokens === null ? {} : { cacheCreation1hInputTokens: n(row.cacheWrite1hTokens) }),
      ...(row.reasoningTokens === null ? {} : { reasoningTokens: n(row.reasoningTokens) }),
    },
    costNano: n(row.costNano),
    estimated: row.estimated === true,
    priced: row.priced as PriceSource | 'unpriced',
  };
}
