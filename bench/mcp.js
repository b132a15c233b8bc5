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
import { timeSideBySide } from './lib/mcp-calls.js';

export const id = 'mcp';
export const title = 'MCP gateway: added latency per tools/call (stdio, audit on)';

const TARGET_ADDED_P50_MS = 1;
const BIN = fileURLToPath(new URL('../bin/run.js', import.meta.url));
const SERVER = fileURLToPath(new URL('../test/fixtures/mcp/server.mjs', import.meta.url));

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

async function connect(args, cwd) {
  const client = new Client({ name: 'bench', version: '1.0.0' });
  await client.connect(new StdioClientTransport({ command: process.execPath, args, cwd, stderr: 'ignore' }));
  await client.listTools(); // as clients do first; through the gateway this pins the tools
  return client;
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
    }
    const { summaries, table, rounds, callsPerRound } = await timeSideBySide(setups, log);
    const addedP50Ms = (summaries[1].p50 - summaries[0].p50) / 1000;
    const failures = [];
    const verdict = addedP50Ms <= TARGET_ADDED_P50_MS ? 'met' : 'NOT met';
    const markdown = [
      table,
      '',
      `Sequential tools/call of one small text tool, ${rounds} alternating rounds of ${callsPerRound} calls each; every gateway call is two recorded decisions (the call, its result) and one recorded outcome. Target ≤ ${TARGET_ADDED_P50_MS} ms added p50 with policy only: ${verdict} (${addedP50Ms.toFixed(2)} ms).`,
    ].join('\n');
    return { markdown, failures };
  } finally {
    for (const client of clients) await client.close().catch(() => {});
    rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
  }
}
