/**
 * Bench section: what `agentguard mcp wrap` adds to one MCP tools/call. A real MCP client (the SDK's Client over
 * stdio) calls the same real server (test/fixtures/mcp/server.mjs) three ways, side by side in alternating rounds:
 * directly, through the gateway with a policy only (the call and its result decided, audit on), and through the
 * gateway with result guardrails (PII redaction and injection detection on every result). Added latency is the
 * gateway's percentile minus the direct one.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { summarize } from './lib/measure.js';
import { formatUs, markdownTable } from './lib/report.js';

export const id = 'mcp';
export const title = 'MCP gateway: added latency per tools/call (stdio, audit on)';

const TARGET_ADDED_P50_MS = 1;
const BIN = fileURLToPath(new URL('../bin/run.js', import.meta.url));
const SERVER = fileURLToPath(new URL('../test/fixtures/mcp/server.mjs', import.meta.url));
const ROUNDS = Number(process.env.BENCH_MCP_ROUNDS ?? 10);
const CALLS_PER_ROUND = Number(process.env.BENCH_MCP_CALLS ?? 200);

const POLICY_ONLY = `version: 1
name: bench-mcp
default: deny
rules:
  - id: tools
    effect: allow
    when: { kind: mcp, name: { glob: "bench.*" } }
  - id: results
    effect: allow
    when: { kind: mcp_output }
`;

const WITH_GUARDRAILS = `${POLICY_ONLY}  - id: mask-pii
    effect: transform
    when: { kind: mcp_output, detect: { guardrail: pii, in: input.content } }
    transform: [ { redact: input.content, guardrail: pii, mode: mask } ]
  - id: no-injection
    effect: deny
    when: { kind: mcp_output, detect: { guardrail: injection, in: input.content } }
`;

const TEXT = 'Order 7 has shipped: the parcel is at the depot and the courier will bring it before noon.';

async function connect(args, cwd) {
  const client = new Client({ name: 'bench', version: '1.0.0' });
  await client.connect(new StdioClientTransport({ command: process.execPath, args, cwd, stderr: 'ignore' }));
  await client.listTools(); // as clients do first; through the gateway this pins the tools
  return client;
}

async function timeCalls(client, n, samples) {
  for (let i = 0; i < n; i++) {
    const started = process.hrtime.bigint();
    const result = await client.callTool({ name: 'echo', arguments: { text: TEXT } });
    samples.push(Number(process.hrtime.bigint() - started));
    if (result.isError || result.content?.[0]?.text !== TEXT) throw new Error(`unexpected result: ${JSON.stringify(result)}`);
  }
}

export async function run({ log }) {
  const dir = mkdtempSync(join(tmpdir(), 'agentguard-bench-mcp-'));
  const clients = [];
  try {
    const setups = [
      { label: 'direct (no gateway)', args: [SERVER] },
      { label: 'mcp wrap, policy only', policy: POLICY_ONLY },
      { label: 'mcp wrap, policy + result guardrails (pii, injection)', policy: WITH_GUARDRAILS },
    ];
    for (const [i, setup] of setups.entries()) {
      if (setup.policy) {
        const cwd = join(dir, `p${i}`);
        const file = join(dir, `policy-${i}.yaml`);
        writeFileSync(file, setup.policy);
        setup.cwd = cwd;
        setup.args = [BIN, 'mcp', 'wrap', '--name', 'bench', '--policy', file, '--', process.execPath, SERVER];
      }
      const cwd = setup.cwd ?? dir;
      mkdirSync(cwd, { recursive: true });
      setup.client = await connect(setup.args, cwd);
      clients.push(setup.client);
      setup.samples = [];
      await timeCalls(setup.client, 50, []); // warm-up: JIT, guardrail models, the store
    }
    for (let round = 0; round < ROUNDS; round++) {
      log(`  round ${round + 1}/${ROUNDS}`);
      for (const setup of setups) await timeCalls(setup.client, CALLS_PER_ROUND, setup.samples);
    }
    const direct = summarize(setups[0].samples);
    const rows = setups.map((setup) => {
      const s = summarize(setup.samples);
      const added = setup === setups[0] ? '—' : `${formatUs(s.p50 - direct.p50)} / ${formatUs(s.p99 - direct.p99)}`;
      return [setup.label, String(s.samples), formatUs(s.p50), formatUs(s.p99), added];
    });
    const policyOnly = summarize(setups[1].samples);
    const addedP50Ms = (policyOnly.p50 - direct.p50) / 1000;
    const failures = [];
    const verdict = addedP50Ms <= TARGET_ADDED_P50_MS ? 'met' : 'NOT met';
    const markdown = [
      markdownTable(['client → server', 'calls', 'p50 µs', 'p99 µs', 'added p50 / p99 µs'], rows, ['l', 'r', 'r', 'r', 'r']),
      '',
      `Sequential tools/call of one small text tool, ${ROUNDS} alternating rounds of ${CALLS_PER_ROUND} calls each; every gateway call is two recorded decisions (the call, its result) and one recorded outcome. Target ≤ ${TARGET_ADDED_P50_MS} ms added p50 with policy only: ${verdict} (${addedP50Ms.toFixed(2)} ms).`,
    ].join('\n');
    return { markdown, failures };
  } finally {
    for (const client of clients) await client.close().catch(() => {});
    rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
  }
}
