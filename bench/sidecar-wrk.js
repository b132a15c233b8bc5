/**
 * Bench section: the sidecar beside its HTTP floor under wrk (Debian package `wrk`: C, one thread, little CPU, so the
 * load generator does not take the core the servers need, as autocannon does). The floor is bench/lib/floor-server.js:
 * fastify parsing the same body and answering a decision-shaped JSON with no auth, policy or audit. The floor and the
 * sidecars (SQLite, and PostgreSQL on a private cluster when it is installed) take turns in short slices of the same
 * run, 32 connections each, with the contract floor (bench/lib/contract-floor-server.js: the sidecar's own request
 * plugins, token check and schemas around a fixed answer) between them to split a sidecar's cost into HTTP contract
 * and deciding/recording, so a change of load on the machine hits them alike; the ratio of each round is reported
 * with the median. Then p50/p99 at a fixed 1,000 requests/s with bench/lib/fixed-rate.js (wrk cannot pace a rate:
 * its latencies would hide a stall behind the requests it delayed). Afterwards every audit log must verify and hold
 * at least one record per 2xx answer. `BENCH_WRK_SECONDS` (slice length, default 4), `BENCH_WRK_ROUNDS` (default 3),
 * `BENCH_WRK_FIXED_SECONDS` (default 10), `BENCH_WRK_POSTGRES=0` (SQLite only).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fixedRate } from './lib/fixed-rate.js';
import { postgresMissing, startPgCluster } from './lib/pg-cluster.js';
import { markdownTable } from './lib/report.js';
import { BODIES, POLICY } from './lib/sidecar-workload.js';

export const id = 'sidecar-wrk';
export const title = 'Sidecar beside its HTTP floor under wrk (32 connections), audit on';

const TARGETS = { ratio: 0.6, p99OverFloorMs: 2 };
const BIN = fileURLToPath(new URL('../bin/run.js', import.meta.url));
const FLOOR = fileURLToPath(new URL('./lib/floor-server.js', import.meta.url));
const CONTRACT_FLOOR = fileURLToPath(new URL('./lib/contract-floor-server.js', import.meta.url));
const SLICE_S = Number(process.env.BENCH_WRK_SECONDS ?? 4);
const ROUNDS = Number(process.env.BENCH_WRK_ROUNDS ?? 3);
const FIXED_S = Number(process.env.BENCH_WRK_FIXED_SECONDS ?? 10);
const CONNECTIONS = 32;

/** The wrk script: POSTs cycling through BODIES, with the token when there is one. */
function wrkScript(token) {
  const lua = (s) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  return [
    'wrk.method = "POST"',
    'wrk.headers["content-type"] = "application/json"',
    ...(token ? [`wrk.headers["authorization"] = "Bearer ${token}"`] : []),
    `local bodies = { ${BODIES.map(lua).join(', ')} }`,
    'local i = 0',
    'request = function() i = i + 1; return wrk.format(nil, nil, nil, bodies[(i % #bodies) + 1]) end',
    '',
  ].join('\n');
}

/** Runs wrk and reads requests/s, p50/p99 (ms), request and non-2xx counts from its text output. */
function wrk(url, script, seconds) {
  const r = spawnSync('wrk', ['-t1', `-c${CONNECTIONS}`, `-d${seconds}s`, '--latency', '-s', script, `${url}/v1/decide`], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`wrk failed (exit ${r.status}): ${r.stderr || r.stdout}`);
  const out = r.stdout;
  const num = (re) => {
    const m = re.exec(out);
    if (!m) throw new Error(`cannot read wrk's output: ${out}`);
    return m;
  };
  const millis = (m) => Number(m[1]) * { us: 0.001, ms: 1, s: 1000 }[m[2]];
  return {
    rps: Number(num(/Requests\/sec:\s+([\d.]+)/)[1]),
    requests: Number(num(/(\d+) requests in/)[1]),
    p50: millis(num(/^\s+50%\s+([\d.]+)(us|ms|s)$/m)),
    p99: millis(num(/^\s+99%\s+([\d.]+)(us|ms|s)$/m)),
    non2xx: Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(out)?.[1] ?? 0),
    errors: /Socket errors:/.test(out) ? out.match(/Socket errors:.*$/m)[0] : '',
  };
}

const TICKS_PER_S = 100;

/**
 * CPU time (µs) a process has used so far: its main thread alone, and all its threads (Linux /proc; null elsewhere).
 * Per request, this is what a server costs whatever else runs on the machine, where requests/s depend on the load.
 */
function cpuTime(pid) {
  const task = (tid) => {
    const fields = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8').split(') ')[1].split(' ');
    return ((Number(fields[11]) + Number(fields[12])) / TICKS_PER_S) * 1e6;
  };
  if (!existsSync(`/proc/${pid}/task`)) return null;
  return { main: task(pid), all: readdirSync(`/proc/${pid}/task`).reduce((sum, tid) => sum + task(tid), 0) };
}

/** wrk on a server, with the CPU the server used per request (see cpuTime). */
function measured(server, seconds) {
  const before = cpuTime(server.pid);
  const r = wrk(server.url, server.script, seconds);
  const after = cpuTime(server.pid);
  if (before && after) Object.assign(r, { mainUs: (after.main - before.main) / r.requests, allUs: (after.all - before.all) / r.requests });
  return r;
}

function cli(args, env = {}) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', ...env } });
  if (r.status !== 0) throw new Error(`agentguard ${args.slice(0, 2).join(' ')} failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

async function startFloor() {
  const child = spawn(process.execPath, [FLOOR], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise((resolve, reject) => {
    child.stdout.once('data', (d) => resolve(Number(String(d).trim())));
    child.once('exit', (code) => reject(new Error(`floor server exited with ${code}`)));
  });
  return { name: 'HTTP floor (fastify, no work)', url: `http://127.0.0.1:${port}`, pid: child.pid, stop: () => child.kill('SIGTERM') };
}

/**
 * The sidecar's HTTP contract without its decision (bench/lib/contract-floor-server.js): its own request plugins,
 * token check and schemas around a fixed answer, so a sidecar's CPU per request minus this one's is what deciding and
 * recording cost, and this one's minus the floor's is what the contract costs.
 */
async function startContractFloor(dir) {
  const dataDir = join(dir, 'contract-floor');
  const child = spawn(process.execPath, [CONTRACT_FLOOR, dataDir], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [port, token] = await new Promise((resolve, reject) => {
    child.stdout.once('data', (d) => resolve(String(d).trim().split(' ')));
    child.once('exit', (code) => reject(new Error(`contract floor server exited with ${code}`)));
  });
  const script = join(dir, 'contract-floor.lua');
  writeFileSync(script, wrkScript(token));
  return { name: 'HTTP contract floor (sidecar plugins and schemas, no decision)', url: `http://127.0.0.1:${port}`, pid: child.pid, token, script, stop: () => child.kill('SIGTERM') };
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
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export async function run({ log }) {
  if (spawnSync('wrk', ['--version']).error) return { markdown: 'Skipped: `wrk` is not installed (`apt-get install wrk`).', failures: [] };
  const dir = mkdtempSync(join(tmpdir(), 'agentguard-bench-wrk-'));
  const failures = [];
  const servers = [];
  let cluster;
  try {
    const policyFile = join(dir, 'policy.yaml');
    writeFileSync(policyFile, POLICY);
    const floorScript = join(dir, 'floor.lua');
    writeFileSync(floorScript, wrkScript(undefined));
    const floor = await startFloor();
    floor.script = floorScript;
    servers.push(floor);
    const contract = await startContractFloor(dir);
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
    for (const s of servers) wrk(s.url, s.script, 2);

    // Rounds of slices: floor, then each sidecar, so the ratio of a round compares servers measured seconds apart.
    const slices = new Map(servers.map((s) => [s.name, []]));
    // Everything measured against the floor: the contract floor, then the sidecars.
    const compared = [contract, ...sidecars];
    const ratios = new Map(compared.map((s) => [s.name, []]));
    const cpuRatios = new Map(compared.map((s) => [s.name, []]));
    for (let round = 1; round <= ROUNDS; round++) {
      log(`  round ${round}/${ROUNDS}: ${servers.length} slices of ${SLICE_S} s`);
      const floorResult = measured(floor, SLICE_S);
      slices.get(floor.name).push(floorResult);
      for (const s of compared) {
        const r = measured(s, SLICE_S);
        if (r.non2xx > 0 || r.errors) failures.push(`${s.name}: ${r.non2xx} non-2xx answers ${r.errors} under wrk`);
        slices.get(s.name).push(r);
        ratios.get(s.name).push(r.rps / floorResult.rps);
        if (r.mainUs && floorResult.mainUs) cpuRatios.get(s.name).push(floorResult.mainUs / r.mainUs);
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
      const answered = slices.get(s.name).reduce((n, r) => n + r.requests - r.non2xx, 0) + fixed.get(s.name).requests;
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
    const mainUs = (s) => median(slices.get(s.name).map((r) => r.mainUs ?? NaN));
    for (const s of compared) {
      const ratio = median(ratios.get(s.name));
      const over = fixed.get(s.name).p99 - floorFixed.p99;
      const cpuRatio = cpuRatios.get(s.name).length ? median(cpuRatios.get(s.name)).toFixed(2) : 'n/a';
      const split = s === contract ? '' : `; main-thread µs/request: contract ${(mainUs(contract) - mainUs(floor)).toFixed(1)} over the floor, deciding and recording ${(mainUs(s) - mainUs(contract)).toFixed(1)} over the contract`;
      log(`  ${s.name}: ${ratio.toFixed(2)} of the floor (${cpuRatio} by main-thread CPU; target ≥ ${TARGETS.ratio}), p99 at 1,000/s floor + ${ms(over)} ms (target ≤ + ${TARGETS.p99OverFloorMs} ms)${split}`);
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
        ['server', 'wrk requests/s (median)', 'of the floor: median (rounds)', 'CPU µs/request: main thread / all threads', 'of the floor by main-thread CPU', 'wrk p99 ms', 'p50 ms at 1,000/s', 'p99 ms at 1,000/s', 'p99 over the floor'],
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
      `wrk 1 thread, ${CONNECTIONS} connections, ${ROUNDS} rounds of ${SLICE_S} s slices taken in turn (floor, contract floor, then each sidecar); the contract floor is fastify with the sidecar's own request plugins, token check (SQLite token store behind the same cache) and schemas around a fixed answer (bench/lib/contract-floor-server.js): what the HTTP contract costs without deciding or recording; the fixed rate is bench/lib/fixed-rate.js (each latency timed from when its request was due), ${FIXED_S} s per server. Load average ${loadBefore.toFixed(2)} before, ${loadAfter.toFixed(2)} after. CPU µs/request is the CPU time the server process used during its wrk slices divided by the requests answered (Linux /proc): it does not depend on what else runs on the machine, where requests/s do; "of the floor by main-thread CPU" is the floor's main-thread CPU per request over the sidecar's, the ratio the two would reach each with a core of its own for its event loop (an audit writer thread, on PostgreSQL or with AGENTGUARD_AUDIT_THREAD=on, runs beside it). Every sidecar answer is an authenticated, policy-checked decision committed to the hash-chained audit log before it is sent (${[...records].map(([n, c]) => `${n}: ${fmt(c)} records`).join(', ')}, verified intact afterwards). Targets: ≥ ${TARGETS.ratio} of the floor, p99 ≤ floor p99 + ${TARGETS.p99OverFloorMs} ms at 1,000 requests/s.${cluster ? ' The PostgreSQL cluster is the private one of bench/lib/pg-cluster.js (fsync and synchronous_commit off: a commit is acknowledged once PostgreSQL has it, not once it is on disk).' : ''}`,
    ].join('\n');
    return { markdown, failures };
  } finally {
    for (const s of servers) s.stop();
    cluster?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
