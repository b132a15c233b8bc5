/**
 * Bench section: the sidecar over loopback HTTP with audit on. A real daemon (`agentguard sidecar start --detach`)
 * with an agent token, driven by autocannon from this process: decisions/s at saturation, and p50/p99 latency at a
 * fixed 1,000 requests/s. The peer is the HTTP floor: fastify parsing the same body and answering a fixed
 * decision-shaped JSON with no auth, policy or audit, run the same way, so the ratio is the price of agentguard's work.
 * Afterwards the audit log must verify and hold one record per 200 answer.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { fixedRate } from './lib/fixed-rate.js';
import { formatRatio, markdownTable } from './lib/report.js';
import { BODIES, POLICY } from './lib/sidecar-workload.js';

export const id = 'sidecar';
export const title = 'Sidecar: decisions over loopback HTTP, audit on';

const TARGETS = { decisionsPerSecond: 15_000, p99AtFixedRateMs: 2 };
const BIN = fileURLToPath(new URL('../bin/run.js', import.meta.url));
const FLOOR = fileURLToPath(new URL('./lib/floor-server.js', import.meta.url));
const DURATION_S = Number(process.env.BENCH_SIDECAR_SECONDS ?? 10);

function cli(args) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  if (r.status !== 0) throw new Error(`agentguard ${args[0]} ${args[1]} failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

function load(url, token, options) {
  return autocannon({
    url: `${url}/v1/decide`,
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    requests: BODIES.map((body) => ({ body })),
    duration: DURATION_S,
    ...options,
  });
}

async function startFloor() {
  const child = spawn(process.execPath, [FLOOR], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise((resolve, reject) => {
    child.stdout.once('data', (d) => resolve(Number(String(d).trim())));
    child.once('exit', (code) => reject(new Error(`floor server exited with ${code}`)));
  });
  return { url: `http://127.0.0.1:${port}`, stop: () => child.kill('SIGTERM') };
}

/**
 * Samples the size of the sidecar's WAL file every few milliseconds while `work` runs and returns the largest size
 * seen (bytes), with work's result: the WAL must stay bounded under steady load.
 */
async function withWalWatch(walFile, work) {
  let max = 0;
  const sample = () => {
    try {
      max = Math.max(max, statSync(walFile).size);
    } catch {
      // no WAL file at this moment (not created yet, or removed at a clean close)
    }
  };
  sample();
  const timer = setInterval(sample, 5);
  try {
    const result = await work();
    sample();
    return { result, maxWalBytes: max };
  } finally {
    clearInterval(timer);
  }
}

const fmt = (n) => Math.round(n).toLocaleString('en-US');
const mb = (bytes) => (bytes / 2 ** 20).toFixed(1);
const ms = (n) => n.toFixed(2);

export async function run({ log }) {
  const dir = mkdtempSync(join(tmpdir(), 'agentguard-bench-sidecar-'));
  const dataDir = join(dir, 'data');
  const failures = [];
  let sidecar;
  let floor;
  try {
    writeFileSync(join(dir, 'policy.yaml'), POLICY);
    const { token } = cli(['token', 'create', '--agent', 'bench', '--json', '--data-dir', dataDir]);
    sidecar = cli(['sidecar', 'start', '--detach', '--port', '0', '--policy', join(dir, 'policy.yaml'), '--data-dir', dataDir, '--json']);
    floor = await startFloor();

    log(`  warm-up`);
    await load(sidecar.url, token, { connections: 8, duration: 2 });
    await load(floor.url, undefined, { connections: 8, duration: 2 });

    const walFile = join(dataDir, 'agentguard.db-wal');
    const rows = [];
    const saturation = {};
    let maxWalBytes = 0;
    let preciseP99;
    const servers = [['agentguard sidecar', sidecar.url, token], ['HTTP floor (fastify, no work)', floor.url, undefined]];
    for (const [name, url, auth] of servers) {
      log(`  ${name}: saturation, 64 connections, ${DURATION_S} s`);
      const { result: r, maxWalBytes: wal } = await withWalWatch(walFile, () => load(url, auth, { connections: 64 }));
      if (r.non2xx > 0 || r.errors > 0) failures.push(`${name}: ${r.non2xx} non-2xx answers and ${r.errors} errors at saturation`);
      saturation[name] = r;
      const ours = name === 'agentguard sidecar';
      if (ours) maxWalBytes = Math.max(maxWalBytes, wal);
      rows.push([name, 'saturation (64 connections)', fmt(r.requests.average), ms(r.latency.p50), ms(r.latency.p99), ours ? mb(wal) : '']);
    }
    for (const [name, url, auth] of servers) {
      log(`  ${name}: fixed 1,000 requests/s, ${DURATION_S} s`);
      const { result: r, maxWalBytes: wal } = await withWalWatch(walFile, () => load(url, auth, { connections: 16, overallRate: 1000 }));
      if (r.non2xx > 0 || r.errors > 0) failures.push(`${name}: ${r.non2xx} non-2xx answers and ${r.errors} errors at 1,000 rps`);
      const ours = name === 'agentguard sidecar';
      if (ours) maxWalBytes = Math.max(maxWalBytes, wal);
      rows.push([name, 'fixed 1,000 requests/s', fmt(r.requests.average), ms(r.latency.p50), ms(r.latency.p99), ours ? mb(wal) : '']);
      if (ours && r.latency.p99 > TARGETS.p99AtFixedRateMs) log(`  note: p99 ${ms(r.latency.p99)} ms is above the ${TARGETS.p99AtFixedRateMs} ms target`);
    }
    for (const [name, url, auth] of servers) {
      log(`  ${name}: fixed 1,000 requests/s, µs-precise client, ${DURATION_S} s`);
      const headers = auth ? { authorization: `Bearer ${auth}` } : {};
      const { result: r, maxWalBytes: wal } = await withWalWatch(walFile, () => fixedRate({ url: `${url}/v1/decide`, headers, bodies: BODIES, rate: 1000, seconds: DURATION_S }));
      if (r.non2xx > 0 || r.errors > 0) failures.push(`${name}: ${r.non2xx} non-2xx answers and ${r.errors} errors at 1,000 rps (precise client)`);
      const ours = name === 'agentguard sidecar';
      if (ours) maxWalBytes = Math.max(maxWalBytes, wal);
      rows.push([name, 'fixed 1,000 requests/s, µs-precise client', fmt(r.requests / DURATION_S), ms(r.p50), ms(r.p99), ours ? mb(wal) : '']);
      if (ours) preciseP99 = r.p99;
    }

    cli(['sidecar', 'stop', '--data-dir', dataDir, '--json']);
    sidecar = undefined;
    const verify = spawnSync(process.execPath, [BIN, 'audit', 'verify', '--json', '--data-dir', dataDir], { encoding: 'utf8' });
    let verified;
    try {
      verified = JSON.parse(verify.stdout);
    } catch {
      throw new Error(`agentguard audit verify printed no JSON (exit ${verify.status}): ${verify.stderr.slice(0, 500)}`);
    }
    if (!verified.ok) failures.push(`the audit log does not verify after the run: ${JSON.stringify(verified.problems[0])}`);

    const ours = saturation['agentguard sidecar'].requests.average;
    const theirs = saturation['HTTP floor (fastify, no work)'].requests.average;
    const markdown = [
      markdownTable(['server', 'load', 'requests/s', 'p50 ms', 'p99 ms', 'max WAL MB'], rows, ['l', 'l', 'r', 'r', 'r', 'r']),
      '',
      `Every sidecar answer is an authenticated, policy-checked decision committed to the hash-chained audit log before it is sent (${fmt(verified.records)} records, verified intact afterwards). The sidecar does ${formatRatio(ours / theirs)} of the floor's requests/s. Max WAL MB is the largest size of the database's write-ahead log seen during the run (sampled every 5 ms; ${mb(maxWalBytes)} MB overall): it must stay bounded under steady load. Targets: ≥ ${fmt(TARGETS.decisionsPerSecond)} decisions/s at saturation, p99 ≤ ${TARGETS.p99AtFixedRateMs} ms at 1,000 requests/s (${preciseP99 <= TARGETS.p99AtFixedRateMs ? 'met' : 'not met'} with the µs-precise client: p99 ${ms(preciseP99)} ms). The load generators (autocannon, and the µs-precise fixed-rate client of bench/lib/fixed-rate.js, which times each request from when it was due) run in the bench process and share the machine's cores with the server.`,
    ].join('\n');
    return { markdown, failures };
  } finally {
    if (sidecar) spawnSync(process.execPath, [BIN, 'sidecar', 'stop', '--data-dir', dataDir]);
    floor?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
