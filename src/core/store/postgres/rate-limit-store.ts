import { retryAfterMs, windowStart, type RateLimitStore, type RateTake, type RateTakeResult, type RateWindow } from '../../rate/types.js';
import type { PgDatabase, Tx } from './connection.js';

/**
 * Rate-limit slots in PostgreSQL (table `rate_slots`), shared by every instance: `take` holds an advisory transaction
 * lock per counter (in counter order, so takers never deadlock) from counting to inserting, so instances taking at
 * once never take more than `max` per window between them. Slots too old for their window are deleted as they are read.
 */
export class PostgresRateLimitStore implements RateLimitStore {
  constructor(private readonly db: PgDatabase) {}

  async take({ decisionId, at, windows }: RateTake): Promise<RateTakeResult> {
    return this.db.transaction(async (tx) => {
      for (const counter of [...new Set(windows.map((w) => w.counter))].sort()) {
        await tx.query("SELECT pg_advisory_xact_lock(hashtextextended('agentguard.rate.' || $1, 0))", [counter]);
      }
      const full: Array<{ window: RateWindow; retryAfterMs: number }> = [];
      for (const window of windows) {
        const start = windowStart(window, at);
        await tx.query('DELETE FROM rate_slots WHERE counter = $1 AND at_ms < $2', [window.counter, window.window === 'fixed' ? start : start + 1]);
        const times = await slotTimes(tx, window, at);
        if (times.length >= window.max) full.push({ window, retryAfterMs: retryAfterMs(window, at, times) });
      }
      if (full.length > 0) return { taken: false, full };
      await tx.query('INSERT INTO rate_slots (counter, at_ms, decision_id) SELECT unnest($1::text[]), $2, $3', [windows.map((w) => w.counter), at, decisionId]);
      return { taken: true };
    });
  }

  async release(decisionId: string): Promise<void> {
    await this.db.query('DELETE FROM rate_slots WHERE decision_id = $1', [decisionId]);
  }

  async usage(windows: RateWindow[], at: number): Promise<number[]> {
    const out: number[] = [];
    for (const window of windows) out.push((await slotTimes(this.db, window, at)).length);
    return out;
  }
}

/** Slot times in the window holding `at`, oldest first. */
async function slotTimes(db: Pick<Tx, 'query'>, window: RateWindow, at: number): Promise<number[]> {
  const start = windowStart(window, at);
  const [low, high] = window.window === 'fixed' ? [start - 1, start + window.perMs] : [start, Number.MAX_SAFE_INTEGER];
  const rows = await db.query<{ at: string }>('SELECT at_ms::text AS at FROM rate_slots WHERE counter = $1 AND at_ms > $2 AND at_ms < $3 ORDER BY at_ms', [window.counter, low, high]);
  return rows.map((r) => Number(r.at));
}
