import { rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditRecorder } from '../src/core/audit/recorder.js';
import { decisionProblem } from '../src/core/contracts/validate-decision.js';
import { Policy } from '../src/core/policy/policy.js';
import { buildSidecarApp } from '../src/sidecar/app.js';
import type { FastifyInstance } from 'fastify';
import { tempDataDir } from './helpers/audit-log.js';

// Every effect, findings, a transformed action, an approval, a bound attribute: what a decision can carry.
const POLICY = Policy.parse({
  version: 1,
  name: 'answers',
  rules: [
    { id: 'kb', effect: 'allow', when: { name: { glob: 'kb.*' } } },
    { id: 'no-drop', effect: 'deny', when: { name: 'db.query', 'input.sql': { regex: '^\\s*drop\\b', flags: 'i' } }, message: 'No DROP' },
    { id: 'no-ssn', effect: 'deny', when: { name: 'email.send', detect: { guardrail: 'pii', in: 'input.body', types: ['US_SSN'] } } },
    { id: 'hash-emails', effect: 'transform', when: { name: 'email.send' }, transform: [{ redact: 'input.body', guardrail: 'pii', types: ['EMAIL_ADDRESS'], mode: 'hash' }] },
    { id: 'big', effect: 'require_approval', when: { name: 'payments.transfer', 'input.amount': { gt: 100 } }, approval: { timeout: '10m', approvers: ['finance'] } },
  ],
});

const ACTIONS = [
  { kind: 'tool', name: 'kb.search', input: { q: 'refunds', nested: { list: [1, 'two', null] } } },
  { kind: 'tool', name: 'db.query', input: { sql: 'DROP TABLE users' } },
  { kind: 'tool', name: 'email.send', input: { body: 'SSN: 536-22-1847' } },
  { kind: 'tool', name: 'email.send', input: { body: 'write to ann@example.com' }, context: { session: 's-1' } },
  { kind: 'tool', name: 'payments.transfer', input: { amount: 5000, to: 'acme' } },
  { kind: 'http', name: 'example.com', input: { text: 'é ☃ \u2028 "quoted" \\ back' } },
];

let app: FastifyInstance;
let recorder: AuditRecorder;
let dataDir: string;

beforeAll(async () => {
  dataDir = tempDataDir('ag-decide-answer-');
  recorder = await AuditRecorder.open({ dataDir });
  app = await buildSidecarApp({
    policy: POLICY,
    recorder,
    dataDir,
    authenticate: async () => ({ ok: true, token: { id: 'tok_agent', scope: { kind: 'agent', agentId: 'bot' }, attributes: { 'agent.role': 'support' } } }),
  });
});

afterAll(async () => {
  await app.close();
  await recorder.close();
  rmSync(dirname(dataDir), { recursive: true, force: true });
});

describe('POST /v1/decide answers (written with JSON.stringify, not the schema serializer)', () => {
  it('are JSON with its content type, pass the SDK check, and carry no field the Decision schema does not declare', async () => {
    for (const action of ACTIONS) {
      const response = await app.inject({ method: 'POST', url: '/v1/decide', headers: { authorization: 'Bearer x' }, payload: { action } });
      expect(response.statusCode, action.name).toBe(200);
      expect(response.headers['content-type']).toBe('application/json; charset=utf-8');
      const answer = response.json() as Record<string, unknown>;
      // The SDK's validator removes fields the schema does not declare: nothing may be removed.
      const checked = structuredClone(answer);
      expect(decisionProblem(checked), action.name).toBeUndefined();
      expect(checked, action.name).toEqual(answer);
      expect((answer.action as Record<string, unknown>).input).toBeDefined();
      expect(answer.action).toMatchObject({ agent: { id: 'bot', role: 'support' } });
    }
  });

  it('error answers keep their schema and content type', async () => {
    const response = await app.inject({ method: 'POST', url: '/v1/decide', headers: { authorization: 'Bearer x' }, payload: { action: { kind: 'tool', name: 'x', agent: { id: 'someone-else' } } } });
    expect(response.statusCode).toBe(403);
    expect(response.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(response.json()).toMatchObject({ error: { code: 'AGENT_MISMATCH' } });
  });
});
