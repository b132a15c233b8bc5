import { createRequire } from 'node:module';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import type { BudgetScope, BudgetWindow, CostScope, LedgerEntry } from '../src/core/cost/types.js';
import { AgentGuardError } from '../src/core/errors.js';
import { SqliteCostStore } from '../src/core/store/sqlite/cost-store.js';
import { MIGRATIONS, SCHEMA_VERSION, migrate } from '../src/core/store/sqlite/migrations.js';
import { SqliteStore } from '../src/core/store/sqlite/sqlite-store.js';
import { rawDb } from './helpers/audit-log.js';
import { makeTempDir } from './helpers/temp-dirs.js';

const Database = createRequire(import.meta.url)('better-sqlite3') as typeof import('better-sqlite3');
const USD = 1_000_000_000; // nano-dollars per dollar
const MARCH = { periodStart: '2026-03-01T00:00:00.000Z', periodEnd: '2026-04-01T00:00:00.000Z' };
const NOW = '2026-03-15T12:00:00.000Z';
const LATER = '2026-03-15T13:00:00.000Z';

const opened: SqliteStore[] = [];
afterEach(async () => {
  for (const store of opened.splice(0)) await store.close();
});

function tempFile(): string {
  return join(makeTempDir('ag-cost-'), 'agentguard.db');
}

function open(file = tempFile()): SqliteStore {
  const store = SqliteStore.open(file);
  opened.push(store);
  return store;
}

function win(scope: BudgetScope, value: string | null, limitUsd: number, period: Pick<BudgetWindow, 'periodStart' | 'periodEnd'> = MARCH): BudgetWindow {
  const name = `${scope}:month`;
  return { key: `${name}|${value ?? ''}`, name, scope, value, ...period, limitNano: limitUsd * USD };
}

function who(agent: string | null, extra: Partial<CostScope> = {}): CostScope {
  return { agent, project: null, user: null, session: null, ...extra };
}

function entry(decisionId: string, costNano: number, overrides: Partial<LedgerEntry> = {}): LedgerEntry {
  return {
    time: NOW,
    decisionId,
    scope: who('bot'),
    provider: 'openai',
    model: 'gpt-4o',
    tokens: { inputTokens: 1000, outputTokens: 200, cacheReadInputTokens: 0, cacheCreationInputTokens: 0 },
    costNano,
    estimated: false,
    priced: 'exact',
    ...overrides,
  };
}

async function errorOf(promise: Promise<unknown>): Promise<AgentGuardError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(AgentGuardError);
  return error as AgentGuardError;
}

describe('SqliteCostStore: reserve and settle', () => {
  it('creates the cost tables and indexes in migration 3', () => {
    const file = tempFile();
    open(file);
    const db = rawDb(file);
    const indexes = db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND name LIKE 'cost_%' ORDER BY name").pluck().all();
    expect(indexes).toEqual(['cost_ledger_agent', 'cost_ledger_time', 'cost_reservations_expires']);
    const ledgerColumns = db.prepare("SELECT name FROM pragma_table_info('cost_ledger')").pluck().all();
    expect(ledgerColumns).toEqual(expect.arrayContaining(['decision_id', 'cache_write_1h_tokens', 'reasoning_tokens', 'cost_nano', 'estimated', 'priced']));
    const triggers = db.prepare("SELECT name FROM sqlite_master WHERE type = 'trigger' ORDER BY name").pluck().all();
    expect(triggers).toEqual(['cost_ledger_totals_delete', 'cost_ledger_totals_insert', 'cost_ledger_totals_update']);
    db.close();
  });

  it('upgrades a version-2 database to version 3 in place', async () => {
    const file = tempFile();
    const old = rawDb(file);
    migrate(old, file, MIGRATIONS.slice(0, 2));
    expect(old.pragma('user_version', { simple: true })).toBe(2);
    old.close();
    const { cost } = open(file);
    await cost.settle(entry('after-upgrade', 7));
    expect((await cost.figures([win('global', null, 1)], NOW))[0].spentNano).toBe(7);
    const db = rawDb(file);
    expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    db.close();
  });

  it('reserves within the limit and reports the figures after the reservation', async () => {
    const { cost } = open();
    const result = await cost.reserve({ decisionId: 'd1', scope: who('bot'), windows: [win('global', null, 1)], amountNano: 400_000_000, now: NOW, expiresAt: LATER });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.reservationId).toMatch(/^res_[0-9a-f]{24}$/);
    expect(result.figures).toEqual([
      { key: 'global:month|', name: 'global:month', limitNano: USD, spentNano: 0, reservedNano: 400_000_000, ...MARCH },
    ]);
  });

  it('denies a reservation that would exceed, inserts nothing, and allows one that fits exactly', async () => {
    const { cost } = open();
    const w = [win('global', null, 1)];
    expect((await cost.reserve({ decisionId: 'a', scope: who('bot'), windows: w, amountNano: 600_000_000, now: NOW, expiresAt: LATER })).ok).toBe(true);
    // 0.6 + 0.400000001 = 1.000000001 > 1
    const over = await cost.reserve({ decisionId: 'b', scope: who('bot'), windows: w, amountNano: 400_000_001, now: NOW, expiresAt: LATER });
    expect(over.ok).toBe(false);
    if (over.ok) return;
    expect(over.exceeded).toEqual([{ key: 'global:month|', name: 'global:month', limitNano: USD, spentNano: 0, reservedNano: 600_000_000, ...MARCH }]);
    expect(over.figures).toEqual(over.exceeded);
    expect(await cost.figures(w, NOW)).toEqual(over.figures);
    // 0.6 + 0.4 = 1.0 exactly: allowed.
    const exact = await cost.reserve({ decisionId: 'c', scope: who('bot'), windows: w, amountNano: 400_000_000, now: NOW, expiresAt: LATER });
    expect(exact.ok).toBe(true);
    expect(exact.figures[0]).toMatchObject({ spentNano: 0, reservedNano: USD });
    // Full: even one nano-dollar more is refused.
    expect((await cost.reserve({ decisionId: 'd', scope: who('bot'), windows: w, amountNano: 1, now: NOW, expiresAt: LATER })).ok).toBe(false);
  });

  it('settle replaces the reservation by the actual cost', async () => {
    const { cost } = open();
    const w = [win('global', null, 1)];
    await cost.reserve({ decisionId: 'd1', scope: who('bot'), windows: w, amountNano: 400_000_000, now: NOW, expiresAt: LATER });
    await cost.settle(entry('d1', 250_000_000));
    expect(await cost.figures(w, NOW)).toEqual([expect.objectContaining({ spentNano: 250_000_000, reservedNano: 0 })]);
    // 0.25 spent + 0.7 = 0.95 fits; then 0.25 + 0.7 + 0.1 = 1.05 does not.
    const second = await cost.reserve({ decisionId: 'd2', scope: who('bot'), windows: w, amountNano: 700_000_000, now: NOW, expiresAt: LATER });
    expect(second.figures[0]).toMatchObject({ spentNano: 250_000_000, reservedNano: 700_000_000 });
    const third = await cost.reserve({ decisionId: 'd3', scope: who('bot'), windows: w, amountNano: 100_000_000, now: NOW, expiresAt: LATER });
    expect(third.ok).toBe(false);
    expect(third.figures[0]).toMatchObject({ spentNano: 250_000_000, reservedNano: 700_000_000 });
  });

  it('settle is idempotent per decision: the first row stays and spend counts once', async () => {
    const file = tempFile();
    const { cost } = open(file);
    const w = [win('global', null, 1)];
    await cost.reserve({ decisionId: 'd1', scope: who('bot'), windows: w, amountNano: 500_000_000, now: NOW, expiresAt: LATER });
    await cost.settle(entry('d1', 300_000_000));
    await cost.settle(entry('d1', 300_000_000));
    await cost.settle(entry('d1', 999_000_000));
    expect((await cost.ledger({})).map((e) => [e.decisionId, e.costNano])).toEqual([['d1', 300_000_000]]);
    expect((await cost.figures(w, NOW))[0]).toMatchObject({ spentNano: 300_000_000, reservedNano: 0 });
    const db = rawDb(file);
    expect(db.prepare('SELECT count(*) FROM cost_reservations').pluck().get()).toBe(0);
    db.close();
  });

  it('a call settled without a reservation is still recorded', async () => {
    const { cost } = open();
    await cost.settle(entry('no-res', 42));
    expect((await cost.figures([win('global', null, 1)], NOW))[0]).toMatchObject({ spentNano: 42, reservedNano: 0 });
  });

  it('expired reservations stop counting and are removed by the next reservation', async () => {
    const file = tempFile();
    const { cost } = open(file);
    const w = [win('global', null, 1)];
    await cost.reserve({ decisionId: 'stuck', scope: who('bot'), windows: w, amountNano: 900_000_000, now: NOW, expiresAt: '2026-03-15T12:01:00.000Z' });
    const early = await cost.reserve({ decisionId: 'e1', scope: who('bot'), windows: w, amountNano: 200_000_000, now: '2026-03-15T12:00:30.000Z', expiresAt: LATER });
    expect(early.ok).toBe(false);
    expect(early.figures[0]).toMatchObject({ reservedNano: 900_000_000 });
    // At the expiry instant the reservation no longer holds (expires_at > now counts).
    expect((await cost.figures(w, '2026-03-15T12:01:00.000Z'))[0]).toMatchObject({ reservedNano: 0 });
    const late = await cost.reserve({ decisionId: 'e2', scope: who('bot'), windows: w, amountNano: 200_000_000, now: '2026-03-15T12:01:01.000Z', expiresAt: LATER });
    expect(late.ok).toBe(true);
    expect(late.figures[0]).toMatchObject({ spentNano: 0, reservedNano: 200_000_000 });
    const db = rawDb(file);
    expect(db.prepare('SELECT decision_id FROM cost_reservations').pluck().all()).toEqual(['e2']);
    db.close();
  });

  it('a reservation counts in every window it matches, and only those', async () => {
    const { cost } = open();
    const call = who('a', { project: 'p', user: 'u1', session: 's1' });
    const applying = [win('global', null, 10), win('agent', 'a', 10), win('project', 'p', 10), win('session', 's1', 10)];
    const others = [win('agent', 'b', 10), win('user', 'u2', 10)];
    const first = await cost.reserve({ decisionId: 'r1', scope: call, windows: applying, amountNano: 3 * USD, now: NOW, expiresAt: LATER });
    expect(first.figures.map((f) => [f.key, f.reservedNano])).toEqual([
      ['global:month|', 3 * USD],
      ['agent:month|a', 3 * USD],
      ['project:month|p', 3 * USD],
      ['session:month|s1', 3 * USD],
    ]);
    expect((await cost.figures([...applying, ...others], NOW)).map((f) => f.reservedNano)).toEqual([3 * USD, 3 * USD, 3 * USD, 3 * USD, 0, 0]);
    // Settled spend is attributed the same way.
    await cost.settle(entry('r1', 2 * USD, { scope: call }));
    const after = await cost.figures([...applying, ...others], NOW);
    expect(after.map((f) => [f.key, f.spentNano, f.reservedNano])).toEqual([
      ['global:month|', 2 * USD, 0],
      ['agent:month|a', 2 * USD, 0],
      ['project:month|p', 2 * USD, 0],
      ['session:month|s1', 2 * USD, 0],
      ['agent:month|b', 0, 0],
      ['user:month|u2', 0, 0],
    ]);
  });

  it('refuses to reserve in a window that does not apply to the call', async () => {
    const { cost } = open();
    const error = await errorOf(cost.reserve({ decisionId: 'w', scope: who('a'), windows: [win('agent', 'b', 10)], amountNano: 1, now: NOW, expiresAt: LATER }));
    expect(error.message).toContain('window agent:month|b does not apply to this call (its agent is "a")');
    expect((await cost.figures([win('global', null, 1)], NOW))[0].reservedNano).toBe(0);
  });

  it('names only the windows that would overflow', async () => {
    const { cost } = open();
    const windows = [win('global', null, 10), win('agent', 'a', 1)];
    await cost.settle(entry('x', 800_000_000, { scope: who('a') }));
    const denied = await cost.reserve({ decisionId: 'y', scope: who('a'), windows, amountNano: 300_000_000, now: NOW, expiresAt: LATER });
    expect(denied.ok).toBe(false);
    if (denied.ok) return;
    expect(denied.exceeded.map((f) => f.key)).toEqual(['agent:month|a']);
    expect(denied.figures.map((f) => f.key)).toEqual(['global:month|', 'agent:month|a']);
    // Another agent is limited only by the global budget (0.8 spent of 10).
    expect((await cost.reserve({ decisionId: 'z', scope: who('b'), windows: [windows[0]], amountNano: 9_200_000_000, now: NOW, expiresAt: LATER })).ok).toBe(true);
  });

  it('counts spend only inside the period [start, end), comparing instants whatever the offset', async () => {
    const { cost } = open();
    await cost.settle(entry('before', 1, { time: '2026-02-28T23:59:59.999Z' }));
    await cost.settle(entry('start', 10, { time: '2026-03-01T00:00:00Z' }));
    await cost.settle(entry('offset', 100, { time: '2026-04-01T01:30:00+02:00' })); // 2026-03-31T23:30Z: March
    await cost.settle(entry('end', 1000, { time: '2026-04-01T00:00:00.000Z' }));
    await cost.settle(entry('april', 10_000, { time: '2026-04-02T00:00:00.000Z' }));
    expect((await cost.figures([win('global', null, 1)], NOW))[0].spentNano).toBe(110);
    const total = win('global', null, 1, { periodStart: '1970-01-01T00:00:00.000Z', periodEnd: null });
    expect((await cost.figures([total], NOW))[0].spentNano).toBe(11_111);
  });

  it('counts periods that do not start or end on a quarter hour exactly', async () => {
    const { cost } = open();
    const times: [string, number][] = [
      ['2026-03-01T00:06:59.999Z', 1], // before
      ['2026-03-01T00:07:00.000Z', 10],
      ['2026-03-01T00:14:59.999Z', 100],
      ['2026-03-01T00:15:00.000Z', 1_000],
      ['2026-03-01T01:44:59.999Z', 10_000],
      ['2026-03-01T01:45:00.000Z', 100_000],
      ['2026-03-01T01:52:29.999Z', 1_000_000],
      ['2026-03-01T01:52:30.000Z', 10_000_000], // the end is exclusive
    ];
    for (const [i, [time, nano]] of times.entries()) await cost.settle(entry(`t${i}`, nano, { time }));
    const odd = win('global', null, 1, { periodStart: '2026-03-01T00:07:00.000Z', periodEnd: '2026-03-01T01:52:30.000Z' });
    expect((await cost.figures([odd], NOW))[0].spentNano).toBe(1_111_110);
    // A period inside one bucket: 00:06:59.999 and 00:07 are in it, 00:14:59.999 is its (exclusive) end.
    const tiny = win('agent', 'bot', 1, { periodStart: '2026-03-01T00:03:00.000Z', periodEnd: '2026-03-01T00:14:59.999Z' });
    expect((await cost.figures([tiny], NOW))[0].spentNano).toBe(11);
    // Open-ended from an odd start.
    const open_ = win('global', null, 1, { periodStart: '2026-03-01T01:45:00.001Z', periodEnd: null });
    expect((await cost.figures([open_], NOW))[0].spentNano).toBe(11_000_000);
  });

  it('figures always equal a plain sum over the ledger, whatever rows and periods (property)', async () => {
    const file = tempFile();
    const { cost } = open(file);
    const base = Date.parse('2026-03-01T00:00:00.000Z');
    const values = ['a', 'b', null] as const;
    const row = fc.record({
      offsetMs: fc.integer({ min: 0, max: 3 * 86_400_000 }),
      agent: fc.constantFrom(...values),
      project: fc.constantFrom(...values),
      costNano: fc.integer({ min: 0, max: 1_000_000 }),
    });
    // Periods at any millisecond, and (the usual case) on quarter hours and whole days.
    const quarters = (min: number, max: number) => fc.integer({ min, max }).map((k) => k * 900_000);
    const period = fc.record({
      from: fc.oneof(fc.integer({ min: -3600_000, max: 3 * 86_400_000 }), quarters(-4, 288), fc.integer({ min: 0, max: 3 }).map((d) => d * 86_400_000)),
      length: fc.option(fc.oneof(fc.integer({ min: 1, max: 2 * 86_400_000 }), quarters(1, 192), fc.constant(86_400_000))),
    });
    let n = 0;
    const db = rawDb(file);
    try {
      await fc.assert(
        fc.asyncProperty(fc.array(row, { maxLength: 30 }), period, fc.constantFrom<BudgetScope>('global', 'agent', 'project'), fc.constantFrom('a', 'b'), async (rows, p, scope, value) => {
          for (const r of rows) {
            await cost.settle(entry(`p${n++}`, r.costNano, { time: new Date(base + r.offsetMs).toISOString(), scope: { agent: r.agent, project: r.project, user: null, session: null } }));
          }
          // Now and then the ledger is edited behind the store's back; the totals must follow.
          if (n % 7 === 0) db.prepare('DELETE FROM cost_ledger WHERE id = (SELECT min(id) FROM cost_ledger)').run();
          if (n % 5 === 0) db.prepare("UPDATE cost_ledger SET cost_nano = cost_nano + 3, time = '2026-03-02T10:10:10.010Z' WHERE id = (SELECT max(id) FROM cost_ledger)").run();
          const start = new Date(base + p.from).toISOString();
          const end = p.length === null ? null : new Date(base + p.from + p.length).toISOString();
          const w = win(scope, scope === 'global' ? null : value, 1, { periodStart: start, periodEnd: end });
          const column = { global: null, agent: 'agent_id', project: 'project' }[scope as 'global' | 'agent' | 'project'];
          const expected = db
            .prepare(`SELECT COALESCE(SUM(cost_nano), 0) FROM cost_ledger WHERE time >= ? AND (? IS NULL OR time < ?)${column ? ` AND ${column} = ?` : ''}`)
            .pluck()
            .get(start, end, end, ...(column ? [value] : []));
          expect((await cost.figures([w], NOW))[0].spentNano).toBe(expected);
        }),
        { numRuns: 200 },
      );
    } finally {
      db.close();
    }
  });

  it('refuses windows whose value does not fit their scope, or whose scope is unknown', async () => {
    const { cost } = open();
    const unknown = await errorOf(cost.figures([{ ...win('global', null, 1), scope: 'toString' as BudgetScope }], NOW));
    expect(unknown.message).toBe('window global:month| has an unknown scope "toString"');
    const error = await errorOf(cost.figures([{ ...win('agent', 'x', 1), value: null }], NOW));
    expect(error.message).toBe('window agent:month|x must have a value exactly when its scope is not global (scope agent, value null)');
  });

  it('keeps the figures of two connections to one file in step', async () => {
    const file = tempFile();
    const one = open(file).cost;
    const two = open(file).cost;
    const w = [win('agent', 'bot', 1)];
    await one.reserve({ decisionId: 'p1', scope: who('bot'), windows: w, amountNano: 700_000_000, now: NOW, expiresAt: LATER });
    expect((await two.reserve({ decisionId: 'p2', scope: who('bot'), windows: w, amountNano: 400_000_000, now: NOW, expiresAt: LATER })).ok).toBe(false);
    await two.settle(entry('p1', 100_000_000));
    expect((await one.figures(w, NOW))[0]).toMatchObject({ spentNano: 100_000_000, reservedNano: 0 });
  });
});

describe('SqliteCostStore: locking', () => {
  it('reserve and settle are write transactions, even for a reservation that will be denied; readers are not blocked', async () => {
    const file = tempFile();
    open(file);
    const db = new Database(file);
    db.pragma('busy_timeout = 0'); // fail at once instead of waiting (the store waits up to BUSY_TIMEOUT_MS)
    const cost = new SqliteCostStore(db);
    const other = rawDb(file);
    const w = [win('global', null, 1)];
    try {
      other.exec('BEGIN IMMEDIATE');
      // 2 USD can never fit in 1 USD: no reservation would be inserted, yet the sums are read under the write lock.
      const locked = await cost.reserve({ decisionId: 'l1', scope: who('bot'), windows: w, amountNano: 2 * USD, now: NOW, expiresAt: LATER }).catch((e: unknown) => e);
      expect((locked as { code?: string }).code).toBe('SQLITE_BUSY');
      const settleLocked = await cost.settle(entry('l2', 1)).catch((e: unknown) => e);
      expect((settleLocked as { code?: string }).code).toBe('SQLITE_BUSY');
      // Readers are not blocked (WAL).
      expect((await cost.figures(w, NOW))[0].spentNano).toBe(0);
      other.exec('ROLLBACK');
      expect((await cost.reserve({ decisionId: 'l1', scope: who('bot'), windows: w, amountNano: 2 * USD, now: NOW, expiresAt: LATER })).ok).toBe(false);
    } finally {
      other.close();
      db.close();
    }
  });
});

describe('SqliteCostStore: ledger and alerts', () => {
  it('returns ledger rows oldest first, filtered by [since, until) and limited, with every field', async () => {
    const { cost } = open();
    const full = entry('full', 123_456, {
      time: '2026-03-02T10:00:00.000Z',
      scope: { agent: 'bot', project: 'shop', user: 'u-9', session: 's-1' },
      provider: 'anthropic',
      model: 'claude-sonnet-4-5',
      tokens: { inputTokens: 10, outputTokens: 20, cacheReadInputTokens: 30, cacheCreationInputTokens: 40, cacheCreation1hInputTokens: 15, reasoningTokens: 5 },
      estimated: true,
      priced: 'base',
    });
    await cost.settle(entry('third', 3, { time: '2026-03-03T00:00:00.000Z', priced: 'unpriced', scope: who(null) }));
    await cost.settle(full);
    await cost.settle(entry('first', 1, { time: '2026-03-01T00:00:00.000Z' }));
    expect((await cost.ledger({})).map((e) => e.decisionId)).toEqual(['first', 'full', 'third']);
    expect(await cost.ledger({ since: '2026-03-02T00:00:00Z', until: '2026-03-03T00:00:00Z' })).toEqual([full]);
    expect((await cost.ledger({ limit: 2 })).map((e) => e.decisionId)).toEqual(['first', 'full']);
    const [third] = await cost.ledger({ since: '2026-03-03T00:00:00Z' });
    expect(third).toMatchObject({ priced: 'unpriced', estimated: false, scope: { agent: null, project: null, user: null, session: null } });
    expect(third.tokens).toEqual({ inputTokens: 1000, outputTokens: 200, cacheReadInputTokens: 0, cacheCreationInputTokens: 0 });
  });

  it('stores times as ISO UTC so they sort as instants', async () => {
    const { cost } = open();
    await cost.settle(entry('tz', 1, { time: '2026-03-05T09:00:00+09:00' }));
    expect((await cost.ledger({}))[0].time).toBe('2026-03-05T00:00:00.000Z');
  });

  it('markAlert is true once per key, period and threshold', async () => {
    const { cost } = open();
    const start = MARCH.periodStart;
    expect(await cost.markAlert('global:month|', start, 0.5, NOW)).toBe(true);
    expect(await cost.markAlert('global:month|', start, 0.5, LATER)).toBe(false);
    expect(await cost.markAlert('global:month|', start, 0.8, LATER)).toBe(true);
    expect(await cost.markAlert('global:month|', '2026-04-01T00:00:00.000Z', 0.5, LATER)).toBe(true);
    expect(await cost.markAlert('agent:month|a', start, 0.5, LATER)).toBe(true);
    // The same instant written another way is the same period.
    expect(await cost.markAlert('global:month|', '2026-03-01T01:00:00+01:00', 0.5, LATER)).toBe(false);
  });
});

describe('SqliteCostStore: refuses bad input (fail closed)', () => {
  const w = [win('global', null, 1)];

  it('refuses negative, fractional and unsafe amounts', async () => {
    const { cost } = open();
    for (const amountNano of [-1, 0.5, Number.NaN, 2 ** 53]) {
      const error = await errorOf(cost.reserve({ decisionId: `bad-${amountNano}`, scope: who('bot'), windows: w, amountNano, now: NOW, expiresAt: LATER }));
      expect(error.code).toBe('COST_INVALID_INPUT');
      expect(error.message).toContain('amountNano must be a whole, non-negative number of nano-dollars');
    }
    const error = await errorOf(cost.settle(entry('neg', -5)));
    expect(error.message).toContain('costNano must be a whole, non-negative number');
    expect(await cost.ledger({})).toEqual([]);
  });

  it('refuses a second reservation for a decision, and a reservation after its settlement', async () => {
    const { cost } = open();
    await cost.reserve({ decisionId: 'once', scope: who('bot'), windows: w, amountNano: 1, now: NOW, expiresAt: LATER });
    const twice = await errorOf(cost.reserve({ decisionId: 'once', scope: who('bot'), windows: w, amountNano: 1, now: NOW, expiresAt: LATER }));
    expect(twice.message).toBe('decision once already holds a budget reservation; a decision reserves once');
    await cost.settle(entry('once', 1));
    const after = await errorOf(cost.reserve({ decisionId: 'once', scope: who('bot'), windows: w, amountNano: 1, now: NOW, expiresAt: LATER }));
    expect(after.message).toBe('decision once is already settled in the cost ledger; it cannot reserve again');
  });

  it('refuses times that are not ISO times and unknown priced values', async () => {
    const { cost } = open();
    const error = await errorOf(cost.reserve({ decisionId: 't', scope: who('bot'), windows: w, amountNano: 1, now: 'yesterday', expiresAt: LATER }));
    expect(error.message).toBe('now must be an ISO 8601 time (got "yesterday")');
    const priced = await errorOf(cost.settle(entry('p', 1, { priced: 'guess' as LedgerEntry['priced'] })));
    expect(priced.message).toContain('priced must be one of override, exact, base, fallback, unpriced');
    const limit = await errorOf(cost.ledger({ limit: 0 }));
    expect(limit.message).toBe('limit must be a positive integer (got 0)');
  });
});
