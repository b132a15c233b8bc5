/**
 * Bench section: a fleet on PostgreSQL. Recorded decisions per second (decide() → masked, hash-chained record
 * committed in PostgreSQL) with p99 latency, for one instance and for two instances on one database (each its own
 * audit chain), beside the bare `pg` floor (a plain INSERT of the same size per call, same connections), in the same
 * run; and two instances sharing ONE chain, which is how the per-instance-chain design was chosen. Starts a private
 * PostgreSQL cluster (bench/lib/pg-cluster.js); skipped, with the reason, when PostgreSQL is not installed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { Policy } from '../dist/sdk/index.js';
import { decide } from '../dist/core/pipeline.js';
import { AuditRecorder } from '../dist/core/audit/recorder.js';
import { openStore } from '../dist/core/store/open-store.js';
import { postgresMissing, startPgCluster } from './lib/pg-cluster.js';
import { formatRatio, markdownTable } from './lib/report.js';

export const id = 'fleet';
export const title = 'Fleet: decisions recorded in PostgreSQL, one and two instances';

const SECONDS = 5;
const IN_FLIGHT = 32;
const policy = Policy.parse({
  version: 1,
  name: 'bench-fleet',
  rules: [
    { id: 'kb', effect: 'allow', when: { name: { glob: 'kb.*' } } },
    { id: 'sql', effect: 'allow', when: { name: 'db.query' } },
  ],
});
const actionFor = (i) =>
  i % 2 === 0
    ? { kind: 'tool', name: 'kb.search', agent: { id: 'bench' }, input: { query: `refund window ${i}`, limit: 10 } }
    : { kind: 'tool', name: 'db.query', agent: { id: 'bench' }, input: { sql: `SELECT * FROM orders WHERE id = ${i}` } };

const p = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))];

/** Calls `one()` from IN_FLIGHT callers per instance for SECONDS; returns calls/s and latency percentiles. */
async function load(instances, one) {
  const latencies = [];
  let i = 0;
  const end = performance.now() + SECONDS * 1000;
  await Promise.all(
    instances.flatMap((instance) =>
      Array.from({ length: IN_FLIGHT }, async () => {
        while (performance.now() < end) {
          const started = performance.now();
          await one(instance, i++);
          latencies.push(performance.now() - started);
        }
      }),
    ),
  );
  latencies.sort((a, b) => a - b);
  return { perSecond: latencies.length / SECONDS, p50: p(latencies, 0.5), p99: p(latencies, 0.99) };
}

async function decisions(cluster, dir, name, count, sharedChain) {
  const url = cluster.database(name);
  // A shared chain has one signer: the instances share a data folder (its key); separate chains, one folder each.
  const recorders = [];
  for (let k = 0; k < count; k++) {
    const dataDir = join(dir, sharedChain ? name : `${name}-${k}`);
    recorders.push(await AuditRecorder.attach(await openStore({ dataDir, url, ...(sharedChain ? { chain: 'shared' } : {}) }), dataDir));
  }
  try {
    const result = await load(recorders.map((audit) => ({ policy, audit })), async (ctx, i) => {
      const decision = await decide(ctx, actionFor(i));
      if (decision.effect !== 'allow') throw new Error(`decision denied: ${JSON.stringify(decision.reasons)}`);
    });
    return result;
  } finally {
    for (const r of recorders) await r.close();
  }
}

async function floor(cluster, count) {
  const pools = Array.from({ length: count }, () => new pg.Pool({ connectionString: cluster.database('floor'), max: 10 }));
  await pools[0].query('CREATE TABLE IF NOT EXISTS floor (id bigserial PRIMARY KEY, data text)');
  const data = JSON.stringify({ decision: actionFor(1), note: 'x'.repeat(400) });
  try {
    return await load(pools, (pool) => pool.query('INSERT INTO floor (data) VALUES ($1)', [data]));
  } finally {
    for (const pool of pools) await pool.end();
  }
}

const perSecond = (x) => `${Math.round(x).toLocaleString('en-US')}/s`;
const ms = (x) => `${x.toFixed(1)} ms`;

export async function run({ log }) {
  const missing = postgresMissing();
  if (missing) return { markdown: `Skipped: ${missing}.`, failures: [] };
  const cluster = await startPgCluster();
  const dir = mkdtempSync(join(tmpdir(), 'agentguard-bench-fleet-'));
  try {
    log('  bare pg INSERT floor, one and two pools…');
    const floor1 = await floor(cluster, 1);
    const floor2 = await floor(cluster, 2);
    log('  one instance…');
    const one = await decisions(cluster, dir, 'one', 1, false);
    log('  two instances, one chain each…');
    const two = await decisions(cluster, dir, 'two', 2, false);
    log('  two instances, one shared chain…');
    const shared = await decisions(cluster, dir, 'shared', 2, true);
    const rows = [
      ['peer: bare pg INSERT, one pool (10 connections)', perSecond(floor1.perSecond), ms(floor1.p50), ms(floor1.p99), '1×'],
      ['decide() + record, one instance', perSecond(one.perSecond), ms(one.p50), ms(one.p99), formatRatio(floor1.perSecond / one.perSecond)],
      ['peer: bare pg INSERT, two pools', perSecond(floor2.perSecond), ms(floor2.p50), ms(floor2.p99), '1×'],
      ['decide() + record, two instances, a chain each', perSecond(two.perSecond), ms(two.p50), ms(two.p99), formatRatio(floor2.perSecond / two.perSecond)],
      ['decide() + record, two instances, one shared chain', perSecond(shared.perSecond), ms(shared.p50), ms(shared.p99), formatRatio(floor2.perSecond / shared.perSecond)],
    ];
    const markdown = `${markdownTable(['what', 'throughput', 'p50', 'p99', 'floor ÷ this'], rows, ['l', 'r', 'r', 'r', 'r'])}\n\n${IN_FLIGHT} callers per instance for ${SECONDS} s each, PostgreSQL ${'on a unix socket of a private cluster (fsync off)'}; records are group-committed per instance.`;
    return { markdown, failures: [] };
  } finally {
    cluster.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
