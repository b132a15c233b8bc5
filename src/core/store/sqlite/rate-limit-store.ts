import type { Database, Statement, Transaction } from 'better-sqlite3';
import { retryAfterMs, windowStart, type RateLimitStore, type RateTake, type RateTakeResult, type RateWindow } from '../../rate/types.js';

/**
 * Rate-limit slots in SQLite (table `rate_slots`, migration 13): one row per slot a decision took. `take` runs in one
 * `BEGIN IMMEDIATE` transaction, so the write lock is held from counting to inserting: processes taking at once are
 * serialised by SQLite and never take more than `max` per window between them (as budget reservations do). Slots too
 * old for the window are deleted as counters are read, so a counter holds at most `max` rows plus those of a window
 * that has just passed.
 */
export class SqliteRateLimitStore implements RateLimitStore {
  private readonly countStmt: Statement<[string, number, number], { at: number }>;
  private readonly pruneStmt: Statement<[string, number]>;
  private readonly insertStmt: Statement<[string, number, string]>;
  private readonly releaseStmt: Statement<[string]>;
  private readonly takeTx: Transaction<(request: RateTake) => RateTakeResult>;
  private readonly usageTx: Transaction<(windows: RateWindow[], at: number) => number[]>;

  constructor(db: Database) {
    this.countStmt = db.prepare('SELECT at_ms AS at FROM rate_slots WHERE counter = ? AND at_ms > ? AND at_ms < ? ORDER BY at_ms');
    this.pruneStmt = db.prepare('DELETE FROM rate_slots WHERE counter = ? AND at_ms < ?');
    this.insertStmt = db.prepare('INSERT INTO rate_slots (counter, at_ms, decision_id) VALUES (?, ?, ?)');
    this.releaseStmt = db.prepare('DELETE FROM rate_slots WHERE decision_id = ?');
    this.takeTx = db.transaction((request: RateTake) => this.takeLocked(request));
    this.usageTx = db.transaction((windows: RateWindow[], at: number) => windows.map((w) => this.times(w, at).length));
  }

  async take(request: RateTake): Promise<RateTakeResult> {
    return this.takeTx.immediate(request);
  }

  async release(decisionId: string): Promise<void> {
    this.releaseStmt.run(decisionId);
  }

  async usage(windows: RateWindow[], at: number): Promise<number[]> {
    return this.usageTx(windows, at);
  }

  /** The body of `take`; runs inside the IMMEDIATE transaction. */
  private takeLocked({ decisionId, at, windows }: RateTake): RateTakeResult {
    const full: Array<{ window: RateWindow; retryAfterMs: number }> = [];
    for (const window of windows) {
      // Slots older than the window can never count again for this counter's limit: drop them.
      const start = windowStart(window, at);
      this.pruneStmt.run(window.counter, window.window === 'fixed' ? start : start + 1);
      const times = this.times(window, at);
      if (times.length >= window.max) full.push({ window, retryAfterMs: retryAfterMs(window, at, times) });
    }
    if (full.length > 0) return { taken: false, full };
    for (const window of windows) this.insertStmt.run(window.counter, at, decisionId);
    return { taken: true };
  }

  /** Slot times in the window holding `at`, oldest first. */
  private times(window: RateWindow, at: number): number[] {
    const start = windowStart(window, at);
    // Sliding: at_ms > at - perMs; fixed: start <= at_ms < start + perMs (the bounds of the prepared query are exclusive).
    const rows = window.window === 'fixed' ? this.countStmt.all(window.counter, start - 1, start + window.perMs) : this.countStmt.all(window.counter, start, Number.MAX_SAFE_INTEGER);
    return rows.map((r) => r.at);
  }
}
