import { randomBytes } from 'node:crypto';
import type { Database, Statement } from 'better-sqlite3';
import type {
  BudgetFigures,
  BudgetScope,
  BudgetWindow,
  CostScope,
  CostStore,
  LedgerEntry,
  PriceSource,
  ReserveResult,
} from '../../cost/types.js';
import { maskText } from '../../audit/mask.js';
import { AgentGuardError } from '../../errors.js';

/** Sorts after every ISO time: the end of periods that have none (`total`) and of unbounded ledger queries. */
const END_OF_TIME = '~';

/** The column each budget scope limits (global limits every row). */
export const SCOPE_COLUMN: Record<BudgetScope, string | null> = {
  global: null,
  agent: 'agent_id',
  project: 'project',
  user: 'user_id',
  session: 'session_id',
};

const PRICED = new Set<LedgerEntry['priced']>(['override', 'exact', 'base', 'fallback', 'unpriced']);

interface LedgerRow {
  time: string;
  decisionId: string;
  agentId: string | null;
  project: string | null;
  userId: string | null;
  sessionId: string | null;
  provider: string;
  model: string;
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  cacheWrite1hTokens: number | null;
  reasoningTokens: number | null;
  costNano: number;
  estimated: number;
  priced: string;
}

const LEDGER_COLUMNS = `time, decision_id AS decisionId, agent_id AS agentId, project, user_id AS userId, session_id AS sessionId,
  provider, model, input_tokens AS inputTokens, output_tokens AS outputTokens, cache_read_tokens AS cacheReadTokens,
  cache_write_tokens AS cacheWriteTokens, cache_write_1h_tokens AS cacheWrite1hTokens, reasoning_tokens AS reasoningTokens,
  cost_nano AS costNano, estimated, priced`;

type ReserveRequest = Parameters<CostStore['reserve']>[0];

/** Sums of one scope column: committed spend in a time range, and live reservations. Read as bigint so sums are exact. */
interface ScopeSums {
  ledger: Statement<unknown[], bigint>;
  reserved: Statement<unknown[], bigint>;
}

/** Width of the smallest buckets of `cost_totals` (migration 3). */
const BUCKET_MS = 15 * 60_000;
const DAY_MS = 86_400_000;
/** The earliest time isoTime accepts. */
const EARLIEST = '0000-01-01T00:00:00.000Z';

/**
 * The cost ledger, budget reservations and sent alerts in SQLite (migration 3).
 *
 * `reserve` and `settle` each run in one `BEGIN IMMEDIATE` transaction: the write lock is taken before the sums are
 * read, so two processes reserving against the same budget are serialised (the second waits up to the connection's
 * busy_timeout) and can never both fit into the same remaining amount.
 *
 * Committed spend is read from `cost_totals`, which triggers keep in step with every ledger insert, update and delete,
 * so a check costs the same with a million ledger rows as with ten.
 */
export class SqliteCostStore implements CostStore {
  private readonly sums: Record<BudgetScope, ScopeSums>;
  private readonly bucketsStmt: Statement<[string, string, string, string, string], bigint>;
  private readonly totalStmt: Statement<[string, string], bigint>;
  private readonly deleteExpiredStmt: Statement<[string]>;
  private readonly reservationOfStmt: Statement<[string], string>;
  private readonly settledStmt: Statement<[string], number>;
  private readonly insertReservationStmt: Statement<unknown[]>;
  private readonly insertLedgerStmt: Statement<unknown[]>;
  private readonly deleteReservationStmt: Statement<[string]>;
  private readonly ledgerStmt: Statement<[string, string, number], LedgerRow>;
  private readonly markAlertStmt: Statement<[string, string, number, string]>;
  private readonly reserveTx: (request: ReserveRequest) => ReserveResult;
  private readonly settleTx: (entry: LedgerEntry) => void;
  private readonly figuresTx: (windows: BudgetWindow[], now: string) => BudgetFigures[];

  constructor(db: Database) {
    const sums = {} as Record<BudgetScope, ScopeSums>;
    for (const [scope, column] of Object.entries(SCOPE_COLUMN) as [BudgetScope, string | null][]) {
      const match = column === null ? '' : ` AND ${column} IS ?`;
      sums[scope] = {
        ledger: db.prepare<unknown[], bigint>(`SELECT COALESCE(SUM(cost_nano), 0) FROM cost_ledger WHERE time >= ? AND time < ?${match}`).pluck().safeIntegers(),
        reserved: db.prepare<unknown[], bigint>(`SELECT COALESCE(SUM(amount_nano), 0) FROM cost_reservations WHERE expires_at > ?${match}`).pluck().safeIntegers(),
      };
    }
    this.sums = sums;
    this.bucketsStmt = db
      .prepare<[string, string, string, string, string], bigint>(
        'SELECT COALESCE(SUM(cost_nano), 0) FROM cost_totals WHERE scope = ? AND value = ? AND grain = ? AND bucket >= ? AND bucket < ?',
      )
      .pluck()
      .safeIntegers();
    this.totalStmt = db
      .prepare<[string, string], bigint>("SELECT COALESCE(SUM(cost_nano), 0) FROM cost_totals WHERE scope = ? AND value = ? AND grain = 't' AND bucket = ''")
      .pluck()
      .safeIntegers();
    this.deleteExpiredStmt = db.prepare('DELETE FROM cost_reservations WHERE expires_at <= ?');
    this.reservationOfStmt = db.prepare<[string], string>('SELECT id FROM cost_reservations WHERE decision_id = ?').pluck();
    this.settledStmt = db.prepare<[string], number>('SELECT 1 FROM cost_ledger WHERE decision_id = ?').pluck();
    this.insertReservationStmt = db.prepare(
      `INSERT INTO cost_reservations (id, decision_id, agent_id, project, user_id, session_id, amount_nano, created_at, expires_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.insertLedgerStmt = db.prepare(
      `INSERT OR IGNORE INTO cost_ledger (time, decision_id, agent_id, project, user_id, session_id, provider, model, input_tokens,
         output_tokens, cache_read_tokens, cache_write_tokens, cache_write_1h_tokens, reasoning_tokens, cost_nano, estimated, priced)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.deleteReservationStmt = db.prepare('DELETE FROM cost_reservations WHERE decision_id = ?');
    this.ledgerStmt = db.prepare<[string, string, number], LedgerRow>(
      `SELECT ${LEDGER_COLUMNS} FROM cost_ledger WHERE time >= ? AND time < ? ORDER BY time, id LIMIT ?`,
    );
    this.markAlertStmt = db.prepare('INSERT OR IGNORE INTO cost_alerts (key, period_start, threshold, time) VALUES (?, ?, ?, ?)');

    const reserve = db.transaction((request: ReserveRequest) => this.reserveLocked(request));
    this.reserveTx = (request) => reserve.immediate(request);
    const settle = db.transaction((entry: LedgerEntry) => {
      this.insertLedgerStmt.run(...ledgerValues(entry));
      this.deleteReservationStmt.run(entry.decisionId);
    });
    this.settleTx = (entry) => settle.immediate(entry);
    // A read transaction, so all windows are measured on one snapshot.
    const figures = db.transaction((windows: BudgetWindow[], now: string) => windows.map((w) => this.measure(w, now).figures));
    this.figuresTx = (windows, now) => figures.deferred(windows, now);
  }

  async reserve(request: ReserveRequest): Promise<ReserveResult> {
    checkId(request.decisionId, 'decisionId');
    checkNano(request.amountNano, 'amountNano');
    const normalized: ReserveRequest = {
      ...request,
      windows: request.windows.map(normalizeWindow),
      now: isoTime(request.now, 'now'),
      expiresAt: isoTime(request.expiresAt, 'expiresAt'),
    };
    return this.reserveTx(normalized);
  }

  async settle(entry: LedgerEntry): Promise<void> {
    this.settleTx(checkEntry(entry));
  }

  // Inside the caller's transaction better-sqlite3 runs this one as a savepoint: a failure undoes only its own writes.
  settleInTransaction(entry: LedgerEntry): void {
    this.settleTx(checkEntry(entry));
  }

  async figures(windows: BudgetWindow[], now: string): Promise<BudgetFigures[]> {
    return this.figuresTx(windows.map(normalizeWindow), isoTime(now, 'now'));
  }

  async ledger(filter: { since?: string; until?: string; limit?: number }): Promise<LedgerEntry[]> {
    const since = filter.since === undefined ? '' : isoTime(filter.since, 'since');
    const until = filter.until === undefined ? END_OF_TIME : isoTime(filter.until, 'until');
    if (filter.limit !== undefined && !(Number.isSafeInteger(filter.limit) && filter.limit > 0)) {
      throw invalid(`limit must be a positive integer (got ${String(filter.limit)})`);
    }
    return this.ledgerStmt.all(since, until, filter.limit ?? -1).map(toEntry);
  }

  async markAlert(key: string, periodStart: string, threshold: number, time: string): Promise<boolean> {
    if (!Number.isFinite(threshold)) throw invalid(`alert threshold must be a finite number (got ${String(threshold)})`);
    return this.markAlertStmt.run(key, isoTime(periodStart, 'periodStart'), threshold, isoTime(time, 'time')).changes > 0;
  }

  /** The body of `reserve`; runs inside the IMMEDIATE transaction. */
  private reserveLocked(request: ReserveRequest): ReserveResult {
    const { decisionId, scope, windows, amountNano, now, expiresAt } = request;
    if (this.reservationOfStmt.get(decisionId) !== undefined) {
      throw invalid(`decision ${decisionId} already holds a budget reservation; a decision reserves once`);
    }
    if (this.settledStmt.get(decisionId) !== undefined) {
      throw invalid(`decision ${decisionId} is already settled in the cost ledger; it cannot reserve again`);
    }
    for (const w of windows) {
      if (w.scope !== 'global' && scope[w.scope] !== w.value) {
        // The reservation would not count in that window later, so fitting it there would prove nothing.
        throw invalid(`window ${w.key} does not apply to this call (its ${w.scope} is ${JSON.stringify(scope[w.scope])}); reserve only in the windows windowsFor returns`);
      }
    }
    this.deleteExpiredStmt.run(now);
    const amount = BigInt(amountNano);
    const measured = windows.map((w) => this.measure(w, now));
    const figures = measured.map((m) => m.figures);
    const exceeded = measured.filter((m) => m.spent + m.reserved + amount > BigInt(m.figures.limitNano)).map((m) => m.figures);
    if (exceeded.length > 0) return { ok: false, exceeded, figures };

    const reservationId = `res_${randomBytes(12).toString('hex')}`;
    this.insertReservationStmt.run(reservationId, decisionId, scope.agent, scope.project, scope.user, scope.session, amountNano, now, expiresAt);
    return {
      ok: true,
      reservationId,
      figures: measured.map((m) => ({ ...m.figures, reservedNano: toNumber(m.reserved + amount) })),
    };
  }

  /** Committed spend of a window's period: [start, end), or everything from start when end is null. */
  private spentIn(window: BudgetWindow, match: unknown[]): bigint {
    const { scope, periodStart: start, periodEnd: end } = window;
    const value = window.value ?? '';
    if (end !== null) return this.spentBetween(scope, value, match, start, end);
    const total = this.totalStmt.get(scope, value) ?? 0n;
    return start <= EARLIEST ? total : total - this.spentBetween(scope, value, match, EARLIEST, start);
  }

  /**
   * Spend in [from, to): whole UTC days and 15-minute buckets from cost_totals, and the ledger rows themselves for any
   * part at either end that is not a whole bucket (none, for periods that begin at a local midnight of a current zone).
   */
  private spentBetween(scope: BudgetScope, value: string, match: unknown[], from: string, to: string): bigint {
    if (from >= to) return 0n;
    const ledger = this.sums[scope].ledger;
    const q1 = ceilBucket(from);
    const q2 = floorBucket(to);
    if (q1 >= q2) return ledger.get(from, to, ...match) ?? 0n;
    let spent = 0n;
    if (from < q1) spent += ledger.get(from, q1, ...match) ?? 0n;
    if (q2 < to) spent += ledger.get(q2, to, ...match) ?? 0n;
    const d1 = ceilDay(q1);
    const d2 = floorDay(q2);
    if (d1 < d2) {
      spent += this.bucketsStmt.get(scope, value, 'q', q1, d1) ?? 0n;
      spent += this.bucketsStmt.get(scope, value, 'd', d1.slice(0, 10), d2.slice(0, 10)) ?? 0n;
      spent += this.bucketsStmt.get(scope, value, 'q', d2, q2) ?? 0n;
    } else {
      spent += this.bucketsStmt.get(scope, value, 'q', q1, q2) ?? 0n;
    }
    return spent;
  }

  private measure(window: BudgetWindow, now: string): { spent: bigint; reserved: bigint; figures: BudgetFigures } {
    const sums = this.sums[window.scope];
    const match = window.scope === 'global' ? [] : [window.value];
    const spent = this.spentIn(window, match);
    const reserved = sums.reserved.get(now, ...match) ?? 0n;
    return {
      spent,
      reserved,
      figures: {
        key: window.key,
        name: window.name,
        limitNano: window.limitNano,
        spentNano: toNumber(spent),
        reservedNano: toNumber(reserved),
        periodStart: window.periodStart,
        periodEnd: window.periodEnd,
      },
    };
  }
}

/**
 * Times are stored as `Date.toISOString()` text of years 0000 to 9999 (fixed width), so that comparing the text
 * compares the instants, and the bucket of a time is a prefix of its text.
 */
export function isoTime(value: string, field: string): string {
  const time = typeof value === 'string' ? Date.parse(value) : Number.NaN;
  const iso = Number.isNaN(time) ? '' : new Date(time).toISOString();
  if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/.test(iso)) throw invalid(`${field} must be an ISO 8601 time (got ${JSON.stringify(value)})`);
  return iso;
}

/** Start of the 15-minute bucket holding an isoTime (the same text the cost_totals triggers compute). */
function floorBucket(iso: string): string {
  const minute = Number(iso.slice(14, 16));
  return `${iso.slice(0, 14)}${String(Math.floor(minute / 15) * 15).padStart(2, '0')}:00.000Z`;
}

/** The first bucket start at or after an isoTime. */
function ceilBucket(iso: string): string {
  return ceilTo(iso, floorBucket(iso), BUCKET_MS);
}

function floorDay(iso: string): string {
  return `${iso.slice(0, 10)}T00:00:00.000Z`;
}

function ceilDay(iso: string): string {
  return ceilTo(iso, floorDay(iso), DAY_MS);
}

function ceilTo(iso: string, floor: string, step: number): string {
  if (floor === iso) return iso;
  const next = new Date(Date.parse(floor) + step).toISOString();
  return next.length === iso.length ? next : END_OF_TIME; // past year 9999
}

export function normalizeWindow(window: BudgetWindow): BudgetWindow {
  checkNano(window.limitNano, `window ${window.key} limitNano`);
  if (!Object.hasOwn(SCOPE_COLUMN, window.scope)) throw invalid(`window ${window.key} has an unknown scope ${JSON.stringify(window.scope)}`);
  if ((window.scope === 'global') !== (window.value === null)) {
    throw invalid(`window ${window.key} must have a value exactly when its scope is not global (scope ${window.scope}, value ${JSON.stringify(window.value)})`);
  }
  return {
    ...window,
    periodStart: isoTime(window.periodStart, `window ${window.key} periodStart`),
    periodEnd: window.periodEnd === null ? null : isoTime(window.periodEnd, `window ${window.key} periodEnd`),
  };
}

export function checkId(value: unknown, field: string): void {
  if (typeof value !== 'string' || value === '') throw invalid(`${field} must be a non-empty string`);
}

export function checkNano(value: unknown, field: string): void {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw invalid(`${field} must be a whole, non-negative number of nano-dollars (got ${String(value)})`);
  }
}

function checkCount(value: unknown, field: string): void {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw invalid(`${field} must be a whole, non-negative token count (got ${String(value)})`);
  }
}

export function checkEntry(entry: LedgerEntry): LedgerEntry {
  checkId(entry.decisionId, 'decisionId');
  checkId(entry.provider, 'provider');
  checkId(entry.model, 'model');
  checkNano(entry.costNano, 'costNano');
  const t = entry.tokens;
  checkCount(t.inputTokens, 'tokens.inputTokens');
  checkCount(t.outputTokens, 'tokens.outputTokens');
  checkCount(t.cacheReadInputTokens, 'tokens.cacheReadInputTokens');
  checkCount(t.cacheCreationInputTokens, 'tokens.cacheCreationInputTokens');
  if (t.cacheCreation1hInputTokens !== undefined) checkCount(t.cacheCreation1hInputTokens, 'tokens.cacheCreation1hInputTokens');
  if (t.reasoningTokens !== undefined) checkCount(t.reasoningTokens, 'tokens.reasoningTokens');
  if (!PRICED.has(entry.priced)) throw invalid(`priced must be one of ${[...PRICED].join(', ')} (got ${JSON.stringify(entry.priced)})`);
  // The model and provider are what the caller asked for: stored, reported and exported with secrets masked.
  return { ...entry, provider: maskText(entry.provider), model: maskText(entry.model), time: isoTime(entry.time, 'time') };
}

function ledgerValues(e: LedgerEntry): unknown[] {
  const t = e.tokens;
  return [
    e.time, e.decisionId, e.scope.agent, e.scope.project, e.scope.user, e.scope.session, e.provider, e.model,
    t.inputTokens, t.outputTokens, t.cacheReadInputTokens, t.cacheCreationInputTokens,
    t.cacheCreation1hInputTokens ?? null, t.reasoningTokens ?? null, e.costNano, e.estimated ? 1 : 0, e.priced,
  ];
}

function toEntry(row: LedgerRow): LedgerEntry {
  const scope: CostScope = { agent: row.agentId, project: row.project, user: row.userId, session: row.sessionId };
  return {
    time: row.time,
    decisionId: row.decisionId,
    scope,
    provider: row.provider,
    model: row.model,
    tokens: {
      inputTokens: row.inputTokens,
      outputTokens: row.outputTokens,
      cacheReadInputTokens: row.cacheReadTokens,
      cacheCreationInputTokens: row.cacheWriteTokens,
      ...(row.cacheWrite1hTokens === null ? {} : { cacheCreation1hInputTokens: row.cacheWrite1hTokens }),
      ...(row.reasoningTokens === null ? {} : { reasoningTokens: row.reasoningTokens }),
    },
    costNano: row.costNano,
    estimated: row.estimated === 1,
    priced: row.priced as PriceSource | 'unpriced',
  };
}

/** Figures are numbers; a sum beyond 2^53 nano-dollars (about $9 million) would lose precision, so it is refused. */
export function toNumber(value: bigint): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new AgentGuardError('COST_OVERFLOW', `a budget sum of ${value} nano-dollars is beyond what agentguard can count exactly`, {
      actions: ['Use budgets with shorter periods or narrower scopes.'],
    });
  }
  return Number(value);
}

export function invalid(message: string): AgentGuardError {
  return new AgentGuardError('COST_INVALID_INPUT', message);
}
