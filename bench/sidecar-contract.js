/**
 * Bench section: what each piece of the sidecar's HTTP contract costs. The contract floor
 * (bench/lib/contract-floor-server.js: the sidecar's own request plugins, token check, schemas and logger around a
 * fixed answer) runs whole and once without each piece (bench/lib/contract-pieces.js), beside the no-op fastify floor,
 * all under wrk (32 connections) in turn within each round (each round starts at another place in the order), so a
 * change of load on the machine hits them alike. Two processes of the whole contract floor run as a control: their
 * difference is the noise between processes. A piece's cost is the main-thread CPU per request of the whole contract
 * floor (the mean of the two) minus that of the one without it, in the same round; the median of the rounds is
 * reported. `BENCH_CONTRACT_SECONDS` (slice length, default 3),
 * `BENCH_CONTRACT_ROUNDS` (default 3).
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PIECES } from './lib/contract-pieces.js';
import { markdownTable } from './lib/report.js';
import { measured, wrk, wrkScript } from './lib/wrk-load.js';

export const id = 'sidecar-contract';
export const title = "What each piece of the sidecar's HTTP contract costs (contract floor under wrk, one piece left out at a time)";

const FLOOR = fileURLToPath(new URL('./lib/floor-server.js', import.meta.url));
const CONTRACT_FLOOR = fileURLToPath(new URL('./lib/contract-floor-server.js', import.meta.url));
const SLICE_S = Number(process.env.BENCH_CONTRACT_SECONDS ?? 3);
const ROUNDS = Number(process.env.BENCH_CONTRACT_ROUNDS ?? 3);
const CONNECTIONS = 32;

/** Starts a server script that prints "<port> [token]" on stdout; the caller stops it. */
async function start(name, args, dir) {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  const [port, token] = await new Promise((resolve, reject) => {
    child.stdout.once('data', (d) => resolve(String(d).trim().split(' ')));
    child.once('exit', (code) => reject(new Error(`${name} exited with ${code}`)));
  });
  const script = join(dir, `${name.replace(/\W+/g, '-')}.lua`);
  writeFileSync(script, wrkScript(token));
  return { name, url: `http://127.0.0.1:${port}`, pid: child.pid, script, stop: () => child.kill('SIGTERM') };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export async function run({ log }) {
  if (spawnSync('wrk', ['--version']).error) return { markdown: 'Skipped: `wrk` is not installed (`apt-get install wrk`).', failures: [] };
  const dir = mkdtempSync(join(tmpdir(), 'agentguard-bench-contract-'));
  const failures = [];
  const servers = [];
  try {
    const floor = await start('floor', [FLOOR], dir);
    servers.push(floor);
    const whole = await start('contract floor', [CONTRACT_FLOOR, join(dir, 'whole')], dir);
    const control = await start('contract floor (control)', [CONTRACT_FLOOR, join(dir, 'control')], dir);
    servers.push(whole, control);
    const without = new Map();
    for (const piece of PIECES) {
      const s = await start(`without ${piece}`, [CONTRACT_FLOOR, join(dir, piece), piece], dir);
      servers.push(s);
      without.set(piece, s);
    }
    log('  warm-up');
    for (const s of servers) wrk(s.url, s.script, 1, CONNECTIONS);
    const cpu = new Map(servers.map((s) => [s.name, []]));
    for (let round = 1; round <= ROUNDS; round++) {
      log(`  round ${round}/${ROUNDS}: ${servers.length} slices of ${SLICE_S} s`);
      const shift = Math.floor(((round - 1) * servers.length) / ROUNDS);
      for (const s of [...servers.slice(shift), ...servers.slice(0, shift)]) {
        const r = measured(s, SLICE_S, CONNECTIONS);
        if (r.non2xx > 0 || r.errors) failures.push(`${s.name}: ${r.non2xx} non-2xx answers ${r.errors} under wrk`);
        cpu.get(s.name).push(r.mainUs);
      }
    }
    const us = (s) => median(cpu.get(s.name));
    // The whole contract floor in each round: the mean of its two processes.
    const wholeUs = cpu.get(whole.name).map((x, k) => (x + cpu.get(control.name)[k]) / 2);
    const costs = (s) => wholeUs.map((x, k) => x - cpu.get(s.name)[k]);
    const rows = PIECES.map((piece) => {
      const s = without.get(piece);
      return [piece, us(s).toFixed(1), median(costs(s)).toFixed(1), costs(s).map((x) => x.toFixed(1)).join(', ')];
    });
    const noise = cpu.get(whole.name).map((x, k) => Math.abs(x - cpu.get(control.name)[k]));
    rows.sort((a, b) => Number(b[2]) - Number(a[2]));
    const contract = median(costs(floor));
    for (const row of rows) log(`  ${row[0]}: ${row[2]} µs/request of the contract's ${contract.toFixed(1)}`);
    const markdown = [
      markdownTable(
        ['left out', 'main-thread CPU µs/request without it', 'what it costs: µs/request, median of rounds', 'rounds'],
        rows,
        ['l', 'r', 'r', 'r'],
      ),
      '',
      `The no-op fastify floor: ${us(floor).toFixed(1)} µs/request; the whole contract floor: ${median(wholeUs).toFixed(1)} (the contract: ${contract.toFixed(1)} µs/request over the floor, ${(us(floor) / median(wholeUs)).toFixed(2)} of the floor by main-thread CPU). Its two processes differed by ${noise.map((x) => x.toFixed(1)).join(', ')} µs/request in the rounds: differences of that size are noise. wrk 1 thread, ${CONNECTIONS} connections, ${ROUNDS} rounds of ${SLICE_S} s slices, all ${servers.length} servers in turn in each round; main-thread CPU of the server process during its slice over the requests it answered (Linux /proc, 10 ms ticks). A piece's cost is paired within each round; each round starts at another place in the order. Pieces: logger (pino at info into a stream, with the daemon's redaction, and fastify's per-request child logger), host-check, in-flight (gauge and hooks), access-log (onResponse hook), sdk-version (headers and check), auth (bearer token through the one-second cache), json-parser (the sidecar's JSON parser and body checks; without it fastify's own), body-schema (the Action schema), response-schema (compiled at start; the 200 answer is written with JSON.stringify either way), error-handler (used only by errors), reply-headers (content type and serializer set per answer).`,
    ].join('\n');
    return { markdown, failures };
  } finally {
    for (const s of servers) s.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
