/**
 * Bench section: what each piece of the sidecar's HTTP contract costs. The contract floor
 * (bench/lib/contract-floor-server.js: the sidecar's own request plugins, token check, schemas and logger around a
 * fixed answer) runs whole and once without each piece (bench/lib/contract-pieces.js), beside the no-op fastify floor,
 * all under wrk (32 connections). Each server without a piece (and the floor) is measured between two slices of the
 * whole contract floor (two processes of it, in turn), and its cost is the mean of those two minus its own main-thread
 * CPU per request, so a drift of the machine's load between slices cancels out; the median of the rounds is reported,
 * and how much two consecutive slices of the whole contract floor differ says what is noise. `BENCH_CONTRACT_SECONDS` (slice length, default 3),
 * `BENCH_CONTRACT_ROUNDS` (default 3).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PIECES } from './lib/contract-pieces.js';
import { markdownTable } from './lib/report.js';
import { measured, median, startServerScript as start, wrk } from './lib/wrk-load.js';

export const id = 'sidecar-contract';
export const title = "What each piece of the sidecar's HTTP contract costs (contract floor under wrk, one piece left out at a time)";

const FLOOR = fileURLToPath(new URL('./lib/floor-server.js', import.meta.url));
const CONTRACT_FLOOR = fileURLToPath(new URL('./lib/contract-floor-server.js', import.meta.url));
const SLICE_S = Number(process.env.BENCH_CONTRACT_SECONDS ?? 3);
const ROUNDS = Number(process.env.BENCH_CONTRACT_ROUNDS ?? 3);
const CONNECTIONS = 32;


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
    // Each server left out of nothing (the floor) or of one piece is measured between two slices of the whole contract
    // floor (its two processes in turn): its reference is their mean, so a drift of the machine's load cancels out.
    const others = [floor, ...without.values()];
    const cost = new Map(others.map((s) => [s.name, []]));
    const cpu = new Map(others.map((s) => [s.name, []]));
    const drift = [];
    let wholeTurn = 0;
    const measureWhole = () => {
      const s = wholeTurn++ % 2 === 0 ? whole : control;
      const r = measured(s, SLICE_S, CONNECTIONS);
      if (r.non2xx > 0 || r.errors) failures.push(`${s.name}: ${r.non2xx} non-2xx answers ${r.errors} under wrk`);
      return r.mainUs;
    };
    for (let round = 1; round <= ROUNDS; round++) {
      log(`  round ${round}/${ROUNDS}: ${2 * others.length + 1} slices of ${SLICE_S} s`);
      const shift = Math.floor(((round - 1) * others.length) / ROUNDS);
      let before = measureWhole();
      for (const s of [...others.slice(shift), ...others.slice(0, shift)]) {
        const r = measured(s, SLICE_S, CONNECTIONS);
        if (r.non2xx > 0 || r.errors) failures.push(`${s.name}: ${r.non2xx} non-2xx answers ${r.errors} under wrk`);
        const after = measureWhole();
        cost.get(s.name).push((before + after) / 2 - r.mainUs);
        cpu.get(s.name).push(r.mainUs);
        drift.push(Math.abs(after - before));
        before = after;
      }
    }
    const us = (s) => median(cpu.get(s.name));
    const rows = PIECES.map((piece) => {
      const s = without.get(piece);
      return [piece, us(s).toFixed(1), median(cost.get(s.name)).toFixed(1), cost.get(s.name).map((x) => x.toFixed(1)).join(', ')];
    });
    const contract = median(cost.get(floor.name));
    const wholeUs = us(floor) + contract;
    rows.sort((a, b) => Number(b[2]) - Number(a[2]));
    for (const row of rows) log(`  ${row[0]}: ${row[2]} µs/request of the contract's ${contract.toFixed(1)}`);
    const markdown = [
      markdownTable(
        ['left out', 'main-thread CPU µs/request without it', 'what it costs: µs/request, median of rounds', 'rounds'],
        rows,
        ['l', 'r', 'r', 'r'],
      ),
      '',
      `The no-op fastify floor: ${us(floor).toFixed(1)} µs/request; the whole contract floor: ${wholeUs.toFixed(1)} (the contract: ${contract.toFixed(1)} µs/request over the floor, ${(us(floor) / wholeUs).toFixed(2)} of the floor by main-thread CPU). Two consecutive slices of the whole contract floor (its two processes) differed by ${median(drift).toFixed(1)} µs/request (median; largest ${Math.max(...drift).toFixed(1)}): costs of that size are noise. wrk 1 thread, ${CONNECTIONS} connections, ${ROUNDS} rounds of ${SLICE_S} s slices, each server left out of a piece (and the floor) measured between two slices of the whole contract floor, whose mean is its reference; main-thread CPU of the server process during its slice over the requests it answered (Linux /proc, 10 ms ticks). Each round starts at another place in the order. Pieces: logger (pino at info into a stream, with the daemon's redaction, and fastify's per-request child logger), host-check, in-flight (gauge, an onRequest hook and a close listener), access-log (onResponse hook), sdk-version (headers and check), auth (bearer token through the one-second cache), json-parser (the sidecar's JSON parser and body checks; without it fastify's own), body-schema (the Action schema), response-schema (compiled at start; the 200 answer is written with JSON.stringify either way), error-handler (used only by errors), reply-headers (content type and serializer set per answer).`,
    ].join('\n');
    return { markdown, failures };
  } finally {
    for (const s of servers) s.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
