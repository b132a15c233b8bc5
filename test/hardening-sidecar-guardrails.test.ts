import { rmSync } from 'node:fs';
import { dirname } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditRecorder } from '../src/core/audit/recorder.js';
import { Policy } from '../src/core/policy/policy.js';
import { buildSidecarApp, type Authenticate } from '../src/sidecar/app.js';
import { tempDataDir } from './helpers/audit-log.js';

// Issue 16, item 1, acceptance: a 1 MiB string into any built-in guardrail through the sidecar is decided in ≤ 1 s,
// and while it is being decided another agent's simple decision is answered within 100 ms and /healthz answers.
// (Timing bounds stated by the issue; everything runs through the real app on a listening port.)

const MIB = 1024 * 1024;
const GUARDRAILS = ['pii', 'secrets', 'injection', 'moderation'] as const;

const authenticate: Authenticate = async (header) => {
  if (header === 'Bearer big-agent-secret') return { ok: true, token: { id: 'tok_big', scope: { kind: 'agent', agentId: 'big-agent' } } };
  if (header === 'Bearer small-agent-secret') return { ok: true, token: { id: 'tok_small', scope: { kind: 'agent', agentId: 'small-agent' } } };
  return { ok: false, reason: 'unknown' };
};

const policyDoc = {
  version: 1,
  name: 'guardrail-load',
  default: 'deny',
  rules: [
    { id: 'ping', effect: 'allow', when: { name: 'ping' } },
    ...GUARDRAILS.map((g) => ({ id: `no-${g}`, effect: 'deny', when: { name: `check.${g}`, detect: { guardrail: g } } })),
    { id: 'checked', effect: 'allow', when: { name: { glob: 'check.*' } } },
  ],
};

let app: FastifyInstance;
let recorder: AuditRecorder;
let dataDir: string;
let base: string;

beforeAll(async () => {
  dataDir = tempDataDir('ag-sidecar-');
  recorder = await AuditRecorder.open({ dataDir, checkpointIntervalMs: 0 });
  // The body limit is raised so that the 1 MiB string reaches the guardrails instead of a 413.
  app = await buildSidecarApp({ policy: Policy.parse(policyDoc), recorder, dataDir, authenticate, bodyLimit: 4 * MIB, guardrails: { warm: true } });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  base = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`;
  // A running sidecar has served requests before: one large decision per guardrail compiles the paths a large body
  // takes (parsing, the worker hand-off, the audit record) before anything is timed.
  for (const guardrail of GUARDRAILS) await decide('big-agent-secret', { kind: 'tool', name: `check.${guardrail}`, input: { text: 'A.'.repeat(64 * 1024) } });
}, 120_000);

afterAll(async () => {
  await app?.close();
  await recorder?.close();
  if (dataDir) rmSync(dirname(dataDir), { recursive: true, force: true });
});

async function timed<T>(work: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const started = performance.now();
  const value = await work();
  return { ms: performance.now() - started, value };
}

function decide(secret: string, action: unknown) {
  return fetch(`${base}/v1/decide`, {
    method: 'POST',
    headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
    body: JSON.stringify({ action }),
  }).then(async (res) => ({ status: res.status, body: (await res.json()) as { effect: string; reasons: Array<{ code?: string; rule?: string }> } }));
}

const SHAPES: Record<string, () => string> = {
  'A.A.A.': () => 'A.'.repeat(MIB / 2),
  'digit groups': () => '1 '.repeat(MIB / 2),
  prose: () => 'Please ask Mary Jones in London to call me on Friday about the invoice. '.repeat(MIB / 72).padEnd(MIB, ' '),
};

// Timing bounds the issue states; a noisy shared CI core can miss one by chance, so a miss is tried twice more.
describe('a 1 MiB string into each built-in guardrail, through the sidecar', { retry: 2 }, () => {
  for (const guardrail of GUARDRAILS) {
    for (const [shape, make] of Object.entries(SHAPES)) {
      it(`${guardrail}, ${shape}: decided within 1 s while another agent and /healthz are answered within 100 ms`, async () => {
        const text = make();
        expect(text.length).toBe(MIB);
        const big = timed(() => decide('big-agent-secret', { kind: 'tool', name: `check.${guardrail}`, input: { text } }));
        // Let the large request arrive and its guardrails start before the others ask.
        await new Promise((resolve) => setTimeout(resolve, 30));
        const small = await timed(() => decide('small-agent-secret', { kind: 'tool', name: 'ping', input: { q: 'hello' } }));
        const health = await timed(() => fetch(`${base}/healthz`).then((res) => res.status));
        const done = await big;

        expect(small.value.status).toBe(200);
        expect(small.value.body.effect).toBe('allow');
        expect(health.value).toBe(200);
        expect(done.value.status).toBe(200);
        // Decided: allowed (nothing found), denied by the guardrail's rule, or denied because the budget ran out.
        expect(['allow', 'deny']).toContain(done.value.body.effect);
        if (done.value.body.effect === 'deny') {
          expect(done.value.body.reasons.some((r) => r.rule === `no-${guardrail}`)).toBe(true);
        }
        expect(small.ms).toBeLessThanOrEqual(100);
        expect(health.ms).toBeLessThanOrEqual(100);
        expect(done.ms).toBeLessThanOrEqual(1000);
      }, 30_000);
    }
  }
});
