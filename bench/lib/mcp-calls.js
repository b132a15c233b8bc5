/**
 * What the MCP bench sections share: timing a client's tools/call of the `echo` tool, and running setups (direct and
 * through a gateway) side by side in alternating rounds, into one table with the added latency against the first.
 */
import { summarize } from './measure.js';
import { formatUs, markdownTable } from './report.js';

const TEXT = 'Order 7 has shipped: the parcel is at the depot and the courier will bring it before noon.';
const ROUNDS = Number(process.env.BENCH_MCP_ROUNDS ?? 10);
const CALLS_PER_ROUND = Number(process.env.BENCH_MCP_CALLS ?? 200);

async function timeCalls(client, n, samples) {
  for (let i = 0; i < n; i++) {
    const started = process.hrtime.bigint();
    const result = await client.callTool({ name: 'echo', arguments: { text: TEXT } });
    samples.push(Number(process.hrtime.bigint() - started));
    if (result.isError || result.content?.[0]?.text !== TEXT) throw new Error(`unexpected result: ${JSON.stringify(result)}`);
  }
}

/**
 * Warms each setup's client up, then times them in alternating rounds. `setups[0]` is the direct one. Returns each
 * setup's summary and the table (label, calls, p50, p99, added p50 / p99 against the direct setup).
 */
export async function timeSideBySide(setups, log) {
  const samples = setups.map(() => []);
  for (const setup of setups) await timeCalls(setup.client, 50, []); // warm-up: JIT, guardrail models, the store
  for (let round = 0; round < ROUNDS; round++) {
    log(`  round ${round + 1}/${ROUNDS}`);
    for (const [i, setup] of setups.entries()) await timeCalls(setup.client, CALLS_PER_ROUND, samples[i]);
  }
  const summaries = samples.map((s) => summarize(s));
  const direct = summaries[0];
  const rows = setups.map((setup, i) => {
    const s = summaries[i];
    const added = i === 0 ? '—' : `${formatUs(s.p50 - direct.p50)} / ${formatUs(s.p99 - direct.p99)}`;
    return [setup.label, String(s.samples), formatUs(s.p50), formatUs(s.p99), added];
  });
  const table = markdownTable(['client → server', 'calls', 'p50 µs', 'p99 µs', 'added p50 / p99 µs'], rows, ['l', 'r', 'r', 'r', 'r']);
  return { summaries, table, rounds: ROUNDS, callsPerRound: CALLS_PER_ROUND };
}
