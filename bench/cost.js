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
/** $10: at $0.001 a call the workers reach it within the run, so the later reservations are denied. */
const LIMIT_NANO = 10_000_000_000;

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
  const rows = [];
  const root = mkdtempSync(join(tmpdir(), 'agentguard-bench-cost-'));
  try {
    for (const processes of [1, 2]) {
      for (const mode of ['reserve', 'floor']) {
        const dataDir = join(root, `${mode}-${processes}`);
        const limitNano = LIMIT_NANO;
        if (mode === 'reserve') await (await openStore({ dataDir })).close();
        else mkdirSync(dataDir, { recursive: true });
        log(`  ${mode === 'reserve' ? 'reserve + settle' : 'floor'}: ${processes} process${processes > 1 ? 'es' : ''}, ${SECONDS} s`);
        const results = await runWorkers(processes, mode, dataDir, limitNano);
        const pairs = results.reduce((n, r) => n + r.pairs, 0);
        const denied = results.reduce((n, r) => n + r.denied, 0);
        rows.push({ mode, processes, perSecond: pairs / SECONDS, denied });
        if (mode === 'reserve') {
          const store = await openStore({ dataDir, create: false });
          const spent = (await store.cost.ledger({})).reduce((n, e) => n + e.costNano, 0);
          await store.close();
          if (spent > limitNano) failures.push(`committed spend ${spent} nano-USD exceeds the limit ${limitNano} with ${processes} processes`);
          rows.at(-1).spentUsd = spent / 1e9;
        }
      }
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  const table = [];
  for (const processes of [1, 2]) {
    const ours = rows.find((r) => r.mode === 'reserve' && r.processes === processes);
    const floor = rows.find((r) => r.mode === 'floor' && r.processes === processes);
    table.push([`reserve + settle, ${processes} process${processes > 1 ? 'es' : ''}`, Math.round(ours.perSecond).toLocaleString('en-US'), `${ours.denied.toLocaleString('en-US')} denied; spent $${ours.spentUsd.toFixed(3)} of $${LIMIT_NANO / 1e9}`, formatRatio(floor.perSecond / ours.perSecond)]);
    table.push([`floor: bare inserts and deletes, ${processes} process${processes > 1 ? 'es' : ''}`, Math.round(floor.perSecond).toLocaleString('en-US'), '', '1×']);
  }
  const markdown = [
    `Pricing a call (\`costOf\`, five token kinds, exact integer arithmetic): ${Math.round(priced.perSecond).toLocaleString('en-US')} calls/s.`,
    '',
    `Budget reservations: each worker loops reserve (one global and one per-agent budget) → settle with the actual cost, awaited one at a time, for ${SECONDS} s against one database file:`,
    '',
    markdownTable(['what', 'pairs/s', 'outcome', 'floor ÷ this'], table, ['l', 'r', 'l', 'r']),
  ].join('\n');
  return { markdown, failures };
}
