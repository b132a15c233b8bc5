import { spawn } from 'node:child_process';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { windowsFor } from '../src/core/cost/budgets.js';
import type { BudgetConfig, BudgetWindow, CostScope } from '../src/core/cost/types.js';
import { SqliteStore } from '../src/core/store/sqlite/sqlite-store.js';
import { rawDb } from './helpers/audit-log.js';
import { ROOT } from './helpers/cli.js';
import { makeTempDir } from './helpers/temp-dirs.js';

const HAMMER = join(ROOT, 'test/fixtures/cost/hammer.ts');
const NOW = '2026-03-15T12:00:00.000Z';
const LATER = '2026-03-15T13:00:00.000Z';

const opened: SqliteStore[] = [];
afterEach(async () => {
  for (const store of opened.splice(0)) await store.close();
});

function tempFile(): string {
  return join(makeTempDir('ag-cost-race-'), 'agentguard.db');
}

function open(file: string): SqliteStore {
  const store = SqliteStore.open(file);
  opened.push(store);
  return store;
}

interface Call {
  /** Reserved amount, in thousandths of the limit (so some calls fit many times, some only a few). */
  permille: number;
  /** Actual cost, in thousandths of the reserved amount. */
  actualPermille: number;
  /** Never reports back: its reservation stays live. */
  abandon: boolean;
}

const call = fc.record({ permille: fc.integer({ min: 0, max: 700 }), actualPermille: fc.integer({ min: 0, max: 1000 }), abandon: fc.nat(4).map((n) => n === 0) });

describe('no overspend under concurrency', () => {
  it('(a) in one process: interleaved reserve → settle sequences on two connections never commit more than the limit', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 5_000_000_000 }),
        fc.array(call, { minLength: 1, maxLength: 25 }),
        fc.scheduler(),
        async (limitNano, calls, s) => {
          const file = tempFile();
          const stores = [open(file), open(file)];
          const window: BudgetWindow = { key: 'global:month|', name: 'global:month', scope: 'global', value: null, periodStart: '2026-03-01T00:00:00.000Z', periodEnd: '2026-04-01T00:00:00.000Z', limitNano };
          const scope: CostScope = { agent: 'bot', project: null, user: null, session: null };
          // What the store must agree with. better-sqlite3 runs each transaction synchronously inside the call, so the
          // model is updated right after the call starts, before any other sequence can run.
          const model = { spent: 0, live: 0, denied: 0 };

          const sequence = async (c: Call, i: number): Promise<void> => {
            const cost = stores[i % 2]!.cost;
            const amountNano = Math.floor((limitNano * c.permille) / 1000);
            await s.schedule(Promise.resolve(), `reserve ${i} (${amountNano})`);
            const fits = model.spent + model.live + amountNano <= limitNano;
            const before = { ...model };
            const pending = cost.reserve({ decisionId: `d${i}`, scope, windows: [window], amountNano, now: NOW, expiresAt: LATER });
            if (fits) model.live += amountNano;
            const result = await pending;
            expect(result.ok).toBe(fits);
            if (!result.ok) {
              model.denied++;
              // The denial is real: the figures it reports are the true state and leave no room for this amount.
              expect(result.exceeded).toEqual([expect.objectContaining({ spentNano: before.spent, reservedNano: before.live, limitNano })]);
              expect(before.spent + before.live + amountNano).toBeGreaterThan(limitNano);
              return;
            }
            if (c.abandon) return;
            await s.schedule(Promise.resolve(), `settle ${i}`);
            const actual = Math.floor((amountNano * c.actualPermille) / 1000);
            const settled = cost.settle({
              time: NOW,
              decisionId: `d${i}`,
              scope,
              provider: 'openai',
              model: 'gpt-4o',
              tokens: { inputTokens: 1, outputTokens: 1, cacheReadInputTokens: 0, cacheCreationInputTokens: 0 },
              costNano: actual,
              estimated: false,
              priced: 'exact',
            });
            model.live -= amountNano;
            model.spent += actual;
            await settled;
          };

          await s.waitFor(Promise.all(calls.map(sequence)));
          const committed = (await stores[0]!.cost.ledger({})).reduce((sum, e) => sum + e.costNano, 0);
          expect(committed).toBe(model.spent);
          expect(committed).toBeLessThanOrEqual(limitNano);
          const [figures] = await stores[1]!.cost.figures([window], NOW);
          expect(figures).toMatchObject({ spentNano: model.spent, reservedNano: model.live });
          expect(figures!.spentNano + figures!.reservedNano).toBeLessThanOrEqual(limitNano);
          for (const store of opened.splice(0)) await store.close();
        },
      ),
      { numRuns: 60 },
    );
  }, 60_000);

  it('(b) across two processes hammering one database file, committed spend stays within every limit', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 50_000_000, max: 500_000_000 }), // $0.05 to $0.50 overall
        fc.integer({ min: 20, max: 80 }), // the largest call, in thousandths of the limit
        fc.constantFrom(1, 3), // how small actual costs are against reservations (see hammer.ts)
        fc.integer(),
        fc.integer(),
        async (limitNano, maxPermille, actualPower, seedA, seedB) => {
          const file = tempFile();
          open(file); // create and migrate the database before the children race for it
          const budgets: BudgetConfig[] = [
            { scope: 'global', period: 'total', limitUsd: limitNano / 1e9 },
            // Each agent alone may use 80%, so both limits bind.
            { scope: 'agent', period: 'total', limitUsd: (limitNano * 0.8) / 1e9 },
          ];
          const windows = windowsFor(budgets, { agent: 'proc-a', project: null, user: null, session: null }, new Date());
          const [globalLimit, agentLimit] = windows.map((w) => w.limitNano);
          watchCommits(file, globalLimit!, agentLimit!);
          const shared = { file, budgets, iterations: 300, workers: 4, actualPower, maxAmountNano: Math.floor((limitNano * maxPermille) / 1000) };
          const [a, b] = await runTogether([
            { ...shared, agent: 'proc-a', seed: seedA },
            { ...shared, agent: 'proc-b', seed: seedB },
          ]);

          const store = open(file);
          const ledger = await store.cost.ledger({});
          const spentBy = (agent: string) => ledger.filter((e) => e.scope.agent === agent).reduce((sum, e) => sum + e.costNano, 0);
          const total = spentBy('proc-a') + spentBy('proc-b');
          expect(total).toBeLessThanOrEqual(globalLimit);
          expect(spentBy('proc-a')).toBeLessThanOrEqual(agentLimit);
          expect(spentBy('proc-b')).toBeLessThanOrEqual(agentLimit);
          // Everything each process says it committed is in the ledger, once.
          expect(ledger).toHaveLength(a.granted + b.granted);
          expect(spentBy('proc-a')).toBe(a.committedNano);
          expect(spentBy('proc-b')).toBe(b.committedNano);
          // Both processes got reservations, the budget really was hit, and every denial was explained.
          expect(a.granted).toBeGreaterThan(0);
          expect(b.granted).toBeGreaterThan(0);
          expect(a.denied + b.denied).toBeGreaterThan(0);
          expect([...a.unjustifiedDenials, ...b.unjustifiedDenials]).toEqual([]);
          // No reservation ever committed beyond a limit (committed spend plus live reservations), at any moment.
          expect(violations(file)).toEqual([]);
          // Nothing is left in flight.
          expect((await store.cost.figures(windows, NOW)).map((f) => f.reservedNano)).toEqual([0, 0]);
          for (const s of opened.splice(0)) await s.close();
        },
      ),
      // No shrinking: a run races real processes, so replaying it is neither cheap nor deterministic.
      { numRuns: 4, endOnFailure: true },
    );
  }, 60_000);
});

/**
 * Test instrumentation on the test's own database: a trigger that checks, inside every transaction that inserts a
 * reservation, that committed spend plus live reservations is still within the global and the agent limit, and records
 * the reservation when it is not. This sees an over-reservation when it happens, even when the call's actual cost would
 * have hidden it in the final ledger total.
 */
function watchCommits(file: string, globalLimit: number, agentLimit: number): void {
  const db = rawDb(file);
  db.exec(`
    CREATE TABLE test_violations (decision_id TEXT);
    CREATE TRIGGER test_within_limits AFTER INSERT ON cost_reservations
    WHEN (SELECT COALESCE(SUM(cost_nano), 0) FROM cost_ledger) + (SELECT COALESCE(SUM(amount_nano), 0) FROM cost_reservations) > ${globalLimit}
      OR (SELECT COALESCE(SUM(cost_nano), 0) FROM cost_ledger WHERE agent_id = NEW.agent_id)
         + (SELECT COALESCE(SUM(amount_nano), 0) FROM cost_reservations WHERE agent_id = NEW.agent_id) > ${agentLimit}
    BEGIN INSERT INTO test_violations VALUES (NEW.decision_id); END;
  `);
  db.close();
}

function violations(file: string): string[] {
  const db = rawDb(file);
  const rows = db.prepare('SELECT decision_id FROM test_violations').pluck().all() as string[];
  db.close();
  return rows;
}

interface Seen {
  granted: number;
  denied: number;
  committedNano: number;
  unjustifiedDenials: string[];
}

/** Starts every child, waits until all are ready, lets them go at once, and returns what each printed. */
async function runTogether(optionsList: object[]): Promise<Seen[]> {
  const children = optionsList.map((options) => {
    const child = spawn(process.execPath, ['--import', 'tsx', HAMMER, JSON.stringify(options)], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const ready = new Promise<void>((resolve, reject) => {
      const check = () => (stdout.startsWith('ready\n') ? resolve() : undefined);
      child.stdout.on('data', check);
      child.once('exit', (code) => reject(new Error(`hammer exited before it was ready (${code}): ${stderr}`)));
    });
    const done = new Promise<Seen>((resolve, reject) => {
      child.once('exit', (code) => {
        if (code !== 0) return reject(new Error(`hammer exited with ${code}: ${stderr}`));
        resolve(JSON.parse(stdout.slice('ready\n'.length)) as Seen);
      });
    });
    return { child, ready, done };
  });
  await Promise.all(children.map((c) => c.ready));
  for (const c of children) c.child.stdin.end('go\n');
  return Promise.all(children.map((c) => c.done));
}
