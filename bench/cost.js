/**
 * Bench section: pricing a call, and budget reservations under contention. A reservation is one SQLite
 * `BEGIN IMMEDIATE` transaction that sums committed spend and live reservations of the budgets that apply and inserts
 * the reservation; settling replaces it with the ledger row. Measured: reserve + settle pairs per second awaited one
 * at a time in one process, and with two processes hammering the same database file. The peer is the floor: bare
 * better-sqlite3 statements doing the same writes (insert a row, delete it, insert another) with no sums or checks,
 * in the same kind of transaction. Afterwards committed spend must be within the limit.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { costOf } from '../dist/core/cost/usage-cost.js';
import { PriceCatalog } from '../dist/core/cost/prices.js';
import { openStore } from '../dist/core/store/open-store.js';
import { formatRatio, markdownTable } from './lib/report.js';

export const id = 'cost';
export const title = 'Costs: pricing calls, and budget reservations under contention';

const SECONDS = Number(process.env.BENCH_COST_SECONDS ?? 4);
const WORKER = fileURLToPath(new URL('./lib/cost-worker.js', import.meta.url));

function pricing() {
  const price = PriceCatalog.shipped().resolve('anthropic', 'claude-sonnet-4-5').entry;
  const usage = { inputTokens: 1200, outputTokens: 300, cacheReadInputTokens: 8000, cacheCreationInputTokens: 500, cacheCreation1hInputTokens: 100 };
  let sink = 0;
  for (let i = 0; i < 100_000; i++) sink += costOf({ ...usage, inputTokens: usage.inputTokens + (i & 7) }, price).totalNano;
  const n = 1_000_000;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) sink += costOf({ ...usage, inputTokens: usage.inputTokens + (i & 7) }, price).totalNano;
  const perSecond = n / ((performance.now() - t0) / 1000);
  return { perSecond, sink };
}

function runWorkers(count, mode, dataDir, limitNano) {
  return Promise.all(
    Array.from({ length: count }, (_, i) =>
      new Promise((resolve, reject) => {
        const child = spawn(process.execPath, [WORKER, mode, dataDir, String(SECONDS * 1000), String(limitNano), `w${i}`], { stdio: ['ignore', 'pipe', 'inherit'] });
        let out = '';
        child.stdout.on('data', (d) => (out += d));
        child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`cost worker exited ${code}`))));
      }),
    ),
  );
}

export async function run({ log }) {
  const failures = [];
  log('  pricing 1,000,000 calls (claude-sonnet-4-5, five token kinds)');
  const priced = pricing();
  const root = mkdtempSync(join(tmpdir(), 'agentguard-bench-cost-'));
  const measured = {};
  try {
    // granted: a limit far above what the run spends; denied: a limit below one call's reservation; floor: bare SQL.
    const limits = { granted: 1_000_000_000_000, denied: 1_000, floor: 0 };
    for (const processes of [1, 2]) {
      for (const [kind, limitNano] of Object.entries(limits)) {
        const dataDir = join(root, `${kind}-${processes}`);
        if (kind === 'floor') mkdirSync(dataDir, { recursive: true });
        else await (await openStore({ dataDir })).close();
        log(`  ${kind}: ${processes} process${processes > 1 ? 'es' : ''}, ${SECONDS} s`);
        const results = await runWorkers(processes, kind === 'floor' ? 'floor' : 'reserve', dataDir, limitNano);
        const pairs = results.reduce((n, r) => n + r.pairs, 0);
        const denied = results.reduce((n, r) => n + r.denied, 0);
        measured[`${kind}-${processes}`] = { perSecond: (kind === 'denied' ? denied : pairs) / SECONDS, pairs, denied };
        if (kind !== 'floor') {
          const store = await openStore({ dataDir, create: false });
          const spent = (await store.cost.ledger({})).reduce((n, e) => n + e.costNano, 0);
          await store.close();
          if (spent > limitNano) failures.push(`committed spend ${spent} nano-USD exceeds the limit ${limitNano} (${kind}, ${processes} processes)`);
          if (kind === 'denied' && pairs > 0) failures.push(`${pairs} reservations were granted above the limit`);
        }
      }
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  const fmt = (n) => Math.round(n).toLocaleString('en-US');
  const table = [];
  for (const processes of [1, 2]) {
    const label = `${processes} process${processes > 1 ? 'es' : ''}`;
    const floor = measured[`floor-${processes}`].perSecond;
    table.push([`reserve + settle, granted, ${label}`, fmt(measured[`granted-${processes}`].perSecond), formatRatio(floor / measured[`granted-${processes}`].perSecond)]);
    table.push([`reserve, denied (over budget), ${label}`, fmt(measured[`denied-${processes}`].perSecond), formatRatio(floor / measured[`denied-${processes}`].perSecond)]);
    table.push([`floor: the same writes as bare statements, ${label}`, fmt(floor), '1×']);
  }
  const markdown = [
    `Pricing a call (\`costOf\`, five token kinds, exact integer arithmetic): ${fmt(priced.perSecond)} calls/s.`,
    '',
    `Budget reservations against one database file, ${SECONDS} s each, awaited one at a time per process; every call is checked against a global and a per-agent budget. Granted: reserve, then settle at half the reservation. Denied: the limit is below one reservation, so each attempt sums the budgets and is refused. The floor does a granted pair's writes (insert, then insert and delete) with bare better-sqlite3 statements in the same kind of transaction, with no sums and no checks. Committed spend stayed within every limit.`,
    '',
    markdownTable(['what', 'per second', 'floor ÷ this'], table, ['l', 'r', 'r']),
  ].join('\n');
  return { markdown, failures };
}
