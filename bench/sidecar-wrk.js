/**
 * Bench section: the sidecar beside its HTTP floor under wrk (Debian package `wrk`: C, one thread, little CPU, so the
 * load generator does not take the core the servers need, as autocannon does). The floor is bench/lib/floor-server.js:
 * fastify parsing the same body and answering a decision-shaped JSON with no auth, policy or audit. The floor and the
 * sidecars (SQLite, and PostgreSQL on a private cluster when it is installed) take turns in short slices of the same
 * run, 32 connections each, with the contract floor (bench/lib/contract-floor-server.js: the sidecar's own request
 * plugins, token check and schemas around a fixed answer) between them to split a sidecar's cost into HTTP contract
 * and deciding/recording, so a change of load on the machine hits them alike; the ratio of each round is reported
 * with the median. Then p50/p99 at a fixed 1,000 requests/s, two ways: wrk paced by a Lua script
 * (bench/lib/wrk-paced.js: an external C client, the servers in alternating slices of several rounds; this is the
 * figure the p99 target is judged on, with wrk's coordinated-omission caveat checked by counting late sends), and
 * bench/lib/fixed-rate.js (a Node client in the bench process timing each request from when it was due; its own
 * event loop shows in its tail). Afterwards every audit log must verify and hold at least one record per 2xx answer.
 * `BENCH_WRK_SECONDS` (slice length, default 4), `BENCH_WRK_ROUNDS` (default 3), `BENCH_WRK_PACED_SECONDS` (default
 * 6), `BENCH_WRK_PACED_ROUNDS` (default 4), `BENCH_WRK_FIXED_SECONDS` (default 10), `BENCH_WRK_POSTGRES=0` (SQLite
 * only).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { fixedRate } from './lib/fixed-rate.js';
import { postgresMissing, startPgCluster } from './lib/pg-cluster.js';
import { markdownTable } from './lib/report.js';
import { BODIES, POLICY } from './lib/sidecar-workload.js';
import { pacedScript, wrkPaced } from './lib/wrk-paced.js';
import { measured, median, startServerScript, wrk, wrkScript } from './lib/wrk-load.js';

export const id = 'sidecar-wrk';
export const title = 'Sidecar beside its HTTP floor under wrk (32 connections), audit on';

const TARGETS = { ratio: 0.6, p99OverFloorMs: 2 };
const BIN = fileURLToPath(new URL('../bin/run.js', import.meta.url));
const FLOOR = fileURLToPath(new URL('./lib/floor-server.js', import.meta.url));
const CONTRACT_FLOOR = fileURLToPath(new URL('./lib/contract-floor-server.js', import.meta.url));
const SLICE_S = Number(process.env.BENCH_WRK_SECONDS ?? 4);
const ROUNDS = Number(process.env.BENCH_WRK_ROUNDS ?? 3);
const FIXED_S = Number(process.env.BENCH_WRK_FIXED_SECONDS ?? 10);
const PACED_S = Number(process.env.BENCH_WRK_PACED_SECONDS ?? 6);
const PACED_ROUNDS = Number(process.env.BENCH_WRK_PACED_ROUNDS ?? 4);
const PACED_RATE = 1000;
// Enough connections that one is free whenever a request is due, unless an answer takes longer than 20 ms.
const PACED_CONNECTIONS = 20;
const CONNECTIONS = 32;

/** Runs the vacuum and checkpoint PostgreSQL would run on its own after a burst of inserts. */
async function settlePostgres(url) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('VACUUM ANALYZE');
    await client.query('CHECKPOINT');
  } finally {
    await client.end();
  }
}

function cli(args, env = {}) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', ...env } });
  if (r.status !== 0) throw new Error(`agentguard ${args.slice(0, 2).join(' ')} failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

/** A detached sidecar on its own data folder, on SQLite or on the PostgreSQL store `storeUrl`, with an agent token. */
function startSidecar(name, dir, policyFile, storeUrl, extraEnv = {}) {
  const dataDir = join(dir, name.replace(/\W+/g, '-'));
  const env = { ...(storeUrl ? { AGENTGUARD_STORE_URL: storeUrl } : {}), ...extraEnv };
  const { token } = cli(['token', 'create', '--agent', 'bench', '--json', '--data-dir', dataDir], env);
  const started = cli(['sidecar', 'start', '--detach', '--port', '0', '--policy', policyFile, '--data-dir', dataDir, '--json'], env);
  const script = join(dir, `${name.replace(/\W+/g, '-')}.lua`);
  writeFileSync(script, wrkScript(token));
  let running = true;
  return {
    name,
    url: started.url,
    pid: started.pid,
    token,
    script,
    stop() {
      if (!running) return;
      running = false;
      spawnSync(process.execPath, [BIN, 'sidecar', 'stop', '--data-dir', dataDir], { env: { ...process.env, ...env } });
    },
    verify() {
      const r = spawnSync(process.execPath, [BIN, 'audit', 'verify', '--json', '--data-dir', dataDir], { encoding: 'utf8', env: { ...process.env, ...env } });
      try {
        return JSON.parse(r.stdout);
      } catch {
        throw new Error(`agentguard audit verify printed no JSON (exit ${r.status}): ${r.stderr.slice(0, 500)}`);
      }
    },
  };
}

const fmt = (n) => Math.round(n).toLocaleString('en-US');
const ms = (n) => n.toFixed(2);

export async function run({ log }) {
  if (spawnSync('wrk', ['--version']).error) return { markdown: 'Skipped: `wrk` is not installed (`apt-get install wrk`).', failures: [] };
  const dir = mkdtempSync(join(tmpdir(), 'agentguard-bench-wrk-'));
  const failures = [];
  const servers = [];
  let cluster;
  try {
    const policyFile = join(dir, 'policy.yaml');
    writeFileSync(policyFile, POLICY);
    const floor = await startServerScript('HTTP floor (fastify, no work)', [FLOOR], dir);
    servers.push(floor);
    // The sidecar's HTTP contract without its decision (bench/lib/contract-floor-server.js): its own request plugins,
    // token check and schemas around a fixed answer, so a sidecar's CPU per request minus this one's is what deciding
    // and recording cost, and this one's minus the floor's is what the contract costs.
    const contract = await startServerScript('HTTP contract floor (sidecar plugins and schemas, no decision)', [CONTRACT_FLOOR, join(dir, 'contract-floor')], dir);
    servers.push(contract);
    const sidecars = [
      startSidecar('sidecar on SQLite', dir, policyFile),
      // The same, with audit appends made by the writer thread (its own connection), as on PostgreSQL: what the thread costs or buys.
      startSidecar('sidecar on SQLite, AGENTGUARD_AUDIT_THREAD=on', dir, policyFile, undefined, { AGENTGUARD_AUDIT_THREAD: 'on' }),
    ];
    servers.push(...sidecars);
    const pgMissing = process.env.BENCH_WRK_POSTGRES === '0' ? 'BENCH_WRK_POSTGRES=0' : postgresMissing();
    if (pgMissing === null) {
      cluster = await startPgCluster();
      sidecars.push(startSidecar('sidecar on PostgreSQL', dir, policyFile, cluster.database('bench_wrk')));
      servers.push(sidecars.at(-1));
    } else {
      log(`  PostgreSQL skipped: ${pgMissing}`);
    }
    const loadBefore = loadavg()[0];

    log('  warm-up');
    for (const s of servers) wrk(s.url, s.script, 2, CONNECTIONS);

    // Rounds of slices: floor, then each sidecar, so the ratio of a round compares servers measured seconds apart.
    const slices = new Map(servers.map((s) => [s.name, []]));
    // Everything measured against the floor: the contract floor, then the sidecars.
    const compared = [contract, ...sidecars];
    const ratios = new Map(compared.map((s) => [s.name, []]));
    const cpuRatios = new Map(compared.map((s) => [s.name, []]));
    for (let round = 1; round <= ROUNDS; round++) {
      log(`  round ${round}/${ROUNDS}: ${servers.length} slices of ${SLICE_S} s`);
      const floorResult = measured(floor, SLICE_S, CONNECTIONS);
      slices.get(floor.name).push(floorResult);
      for (const s of compared) {
        const r = measured(s, SLICE_S, CONNECTIONS);
        if (r.non2xx > 0 || r.errors) failures.push(`${s.name}: ${r.non2xx} non-2xx answers ${r.errors} under wrk`);
        slices.get(s.name).push(r);
        ratios.get(s.name).push(r.rps / floorResult.rps);
        if (r.mainUs && floorResult.mainUs) cpuRatios.get(s.name).push(floorResult.mainUs / r.mainUs);
      }
    }

    // The throughput rounds left PostgreSQL work of its own (autovacuum of the rows they inserted, a checkpoint) that
    // would otherwise run during the paced slices of every server on these two cores: it is done before them.
    if (cluster) await settlePostgres(cluster.database('bench_wrk'));

    // p99 at a fixed rate with wrk paced by its Lua script, the servers taking turns in each round like above.
    for (const s of servers) {
      s.pacedScript = join(dir, `${s.name.replace(/\W+/g, '-')}-paced.lua`);
      writeFileSync(s.pacedScript, pacedScript({ bodies: BODIES, token: s.token, rate: PACED_RATE }));
    }
    const paced = new Map(servers.map((s) => [s.name, []]));
    for (let round = 1; round <= PACED_ROUNDS; round++) {
      log(`  paced round ${round}/${PACED_ROUNDS}: wrk at ${fmt(PACED_RATE)} requests/s, ${servers.length} slices of ${PACED_S} s`);
      for (const s of servers) {
        const r = wrkPaced({ url: `${s.url}/v1/decide`, script: s.pacedScript, seconds: PACED_S, connections: PACED_CONNECTIONS });
        if (r.non2xx > 0 || r.errors > 0) failures.push(`${s.name}: ${r.non2xx} answers ≥ 400 and ${r.errors} socket errors at ${PACED_RATE} requests/s (wrk paced)`);
        paced.get(s.name).push(r);
      }
    }

    const fixed = new Map();
    for (const s of servers) {
      log(`  ${s.name}: fixed 1,000 requests/s, µs-precise client, ${FIXED_S} s`);
      const headers = s.token ? { authorization: `Bearer ${s.token}` } : {};
      const r = await fixedRate({ url: `${s.url}/v1/decide`, headers, bodies: BODIES, rate: 1000, seconds: FIXED_S });
      if (r.non2xx > 0 || r.errors > 0) failures.push(`${s.name}: ${r.non2xx} non-2xx answers and ${r.errors} errors at 1,000 requests/s`);
      fixed.set(s.name, r);
    }
    const loadAfter = loadavg()[0];

    const records = new Map();
    for (const s of sidecars) {
      s.stop();
      const verified = s.verify();
      if (!verified.ok) failures.push(`${s.name}: the audit log does not verify after the run: ${JSON.stringify(verified.problems?.[0])}`);
      const answered =
        slices.get(s.name).reduce((n, r) => n + r.requests - r.non2xx, 0) + paced.get(s.name).reduce((n, r) => n + r.requests - r.non2xx, 0) + fixed.get(s.name).requests;
      // wrk's warm-up answers are recorded too, so a log holds at least one record per counted 2xx answer.
      if (verified.records < answered) failures.push(`${s.name}: ${verified.records} audit records for at least ${answered} answered decisions`);
      records.set(s.name, verified.records);
    }

    const rows = [];
    const floorFixed = fixed.get(floor.name);
    for (const s of servers) {
      const rs = slices.get(s.name);
      const f = fixed.get(s.name);
      const ratio = ratios.get(s.name);
      const cpu = rs.every((r) => r.mainUs) ? `${median(rs.map((r) => r.mainUs)).toFixed(1)} / ${median(rs.map((r) => r.allUs)).toFixed(1)}` : 'n/a';
      const cpuRatio = cpuRatios.get(s.name);
      rows.push([
        s.name,
        fmt(median(rs.map((r) => r.rps))),
        ratio ? `${median(ratio).toFixed(2)} (${ratio.map((x) => x.toFixed(2)).join(', ')})` : '1',
        cpu,
        cpuRatio?.length ? median(cpuRatio).toFixed(2) : s === floor ? '1' : 'n/a',
        ms(median(rs.map((r) => r.p99))),
        ms(f.p50),
        ms(f.p99),
        s === floor ? '' : `${f.p99 >= floorFixed.p99 ? '+' : ''}${ms(f.p99 - floorFixed.p99)} ms`,
      ]);
    }
    const floorPaced = paced.get(floor.name);
    const pacedRows = servers.map((s) => {
      const rs = paced.get(s.name);
      // Each round's p99 against the floor's p99 of the same round.
      const over = rs.map((r, k) => r.p99 - floorPaced[k].p99);
      const late = rs.reduce((n, r) => n + r.lateSends, 0);
      return [
        s.name,
        fmt(median(rs.map((r) => r.rps))),
        ms(median(rs.map((r) => r.p50))),
        `${ms(median(rs.map((r) => r.p99)))} (${rs.map((r) => ms(r.p99)).join(', ')})`,
        ms(median(rs.map((r) => r.p999))),
        s === floor ? '' : `${median(over) >= 0 ? '+' : ''}${ms(median(over))} (${over.map((x) => `${x >= 0 ? '+' : ''}${ms(x)}`).join(', ')})`,
        s === floor ? '' : median(over) <= TARGETS.p99OverFloorMs ? 'met' : 'not met',
        `${fmt(late)} (max ${ms(Math.max(...rs.map((r) => r.maxLateMs)))} ms)`,
      ];
    });
    for (const s of compared) {
      const over = median(paced.get(s.name).map((r, k) => r.p99 - floorPaced[k].p99));
      log(`  ${s.name}: p99 at ${fmt(PACED_RATE)}/s (wrk paced) floor ${over >= 0 ? '+' : ''}${ms(over)} ms (median of ${PACED_ROUNDS} rounds; target ≤ + ${TARGETS.p99OverFloorMs} ms)`);
    }
    const mainUs = (s) => median(slices.get(s.name).map((r) => r.mainUs ?? NaN));
    for (const s of compared) {
      const ratio = median(ratios.get(s.name));
      const over = fixed.get(s.name).p99 - floorFixed.p99;
      const cpuRatio = cpuRatios.get(s.name).length ? median(cpuRatios.get(s.name)).toFixed(2) : 'n/a';
      const split = s === contract ? '' : `; main-thread µs/request: contract ${(mainUs(contract) - mainUs(floor)).toFixed(1)} over the floor, deciding and recording ${(mainUs(s) - mainUs(contract)).toFixed(1)} over the contract`;
      log(`  ${s.name}: ${ratio.toFixed(2)} of the floor (${cpuRatio} by main-thread CPU; target ≥ ${TARGETS.ratio}), p99 at 1,000/s (Node client) floor ${over >= 0 ? "+" : ""}${ms(over)} ms${split}`);
    }
    const splitRows = sidecars.map((s) => [
      s.name,
      mainUs(floor).toFixed(1),
      (mainUs(contract) - mainUs(floor)).toFixed(1),
      (mainUs(s) - mainUs(contract)).toFixed(1),
      mainUs(s).toFixed(1),
    ]);
    const markdown = [
      markdownTable(
        ['server', 'wrk requests/s (median)', 'of the floor: median (rounds)', 'CPU µs/request: main thread / all threads', 'of the floor by main-thread CPU', 'wrk p99 ms', 'p50 ms at 1,000/s (Node client)', 'p99 ms at 1,000/s (Node client)', 'p99 over the floor (Node client)'],
        rows,
        ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
      ),
      '',
      markdownTable(
        ['main-thread CPU µs/request (medians)', 'the floor (HTTP)', '+ the HTTP contract (plugins, token check, schemas)', '+ deciding and recording', '= the sidecar'],
        splitRows,
        ['l', 'r', 'r', 'r', 'r'],
      ),
      '',
      markdownTable(
        ['server', `wrk paced at ${fmt(PACED_RATE)}/s: achieved requests/s`, 'p50 ms', 'p99 ms: median (rounds)', 'p99.9 ms', 'p99 over the floor, same round: median (rounds)', `target ≤ + ${TARGETS.p99OverFloorMs} ms`, 'sends > 2 ms late'],
        pacedRows,
        ['l', 'r', 'r', 'r', 'r', 'r', 'l', 'r'],
      ),
      '',
      `The paced rows: wrk 1 thread, ${PACED_CONNECTIONS} connections, its Lua script (bench/lib/wrk-paced.js) handing each free connection the next due time of one ${fmt(PACED_RATE)}/s schedule (CLOCK_MONOTONIC through LuaJIT's ffi), ${PACED_ROUNDS} rounds of ${PACED_S} s slices taken in turn; percentiles are wrk's (from when a request is written to its full answer), each round's p99 compared with the floor's p99 of the same round, the target judged on the median. wrk does not count the wait of a request sent late because every connection was busy (coordinated omission): "sends > 2 ms late" counts those; with 0 the percentiles are what an open-loop client would see.`,
      '',
      `wrk 1 thread, ${CONNECTIONS} connections, ${ROUNDS} rounds of ${SLICE_S} s slices taken in turn (floor, contract floor, then each sidecar); the contract floor is fastify with the sidecar's own request plugins, token check (SQLite token store behind the same cache) and schemas around a fixed answer (bench/lib/contract-floor-server.js): what the HTTP contract costs without deciding or recording; the last three columns are bench/lib/fixed-rate.js at 1,000 requests/s (a Node client in the bench process, each latency timed from when its request was due; its own event loop shows in its tail, so the p99 target is judged on the wrk paced rows), ${FIXED_S} s per server. Load average ${loadBefore.toFixed(2)} before, ${loadAfter.toFixed(2)} after. CPU µs/request is the CPU time the server process used during its wrk slices divided by the requests answered (Linux /proc): it does not depend on what else runs on the machine, where requests/s do; "of the floor by main-thread CPU" is the floor's main-thread CPU per request over the sidecar's, the ratio the two would reach each with a core of its own for its event loop (an audit writer thread, on PostgreSQL or with AGENTGUARD_AUDIT_THREAD=on, runs beside it). Every sidecar answer is an authenticated, policy-checked decision committed to the hash-chained audit log before it is sent (${[...records].map(([n, c]) => `${n}: ${fmt(c)} records`).join(', ')}, verified intact afterwards). Targets: ≥ ${TARGETS.ratio} of the floor, p99 ≤ floor p99 + ${TARGETS.p99OverFloorMs} ms at 1,000 requests/s.${cluster ? ' The PostgreSQL cluster is the private one of bench/lib/pg-cluster.js (fsync and synchronous_commit off: a commit is acknowledged once PostgreSQL has it, not once it is on disk); between the throughput and the paced rounds it is vacuumed and checkpointed, the work the throughput rounds\' inserts left it, which would otherwise run during every server\'s paced slices.' : ''}`,
    ].join('\n');
    return { markdown, failures };
  } finally {
    for (const s of servers) s.stop();
    cluster?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
