import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Action, Decision } from '../src/core/action.js';
import { AuditRecorder } from '../src/core/audit/recorder.js';
import { decryptTokens } from '../src/core/guardrails/redact/index.js';
import { loadOrCreateRedactionKey } from '../src/core/guardrails/redaction-key.js';
import { Policy } from '../src/core/policy/policy.js';
import { AgentGuard } from '../src/sdk/agent-guard.js';
import { buildSidecarApp, type Authenticate } from '../src/sidecar/app.js';
import { startFakeModeration, type FakeModerationServer } from './fixtures/fake-moderation/server.js';
import { runCliInProcess } from './helpers/cli-in-process.js';
import { makeTempDir } from './helpers/temp-dirs.js';

/**
 * One table of actions through the four front doors — `policy simulate`, `policy test`, the SDK in local mode and
 * the sidecar — which must all decide them alike, because they all open the one engine (core/engine/open-engine.ts).
 */

const API_KEY = 'sk-parity-fake-key';
const AGENT = 'bot';

const policyText = (baseURL: string) => `version: 1
name: parity
default: deny
guardrails:
  moderation-api:
    use: openai-moderation
    config: { apiKey: ${API_KEY}, baseURL: "${baseURL}" }
rules:
  - id: kb-read
    effect: allow
    when: { kind: tool, name: { glob: "kb.*" } }
  - id: chat
    effect: allow
    when: { name: chat.post }
  - id: no-violence
    effect: deny
    when: { name: chat.post, detect: { guardrail: moderation-api, in: input.text, types: [violence] } }
    message: Violent text is not posted
  - id: no-drop
    effect: deny
    when: { name: db.query, input.sql: { regex: "^\\\\s*drop\\\\b", flags: i } }
  - id: hash-emails
    effect: transform
    when: { name: email.send }
    transform:
      - { redact: input.body, guardrail: pii, types: [EMAIL_ADDRESS], mode: hash }
  - id: encrypt-emails
    effect: transform
    when: { name: crm.note }
    transform:
      - { redact: input.body, guardrail: pii, types: [EMAIL_ADDRESS], mode: encrypt }
  - id: big-transfer
    effect: require_approval
    when: { name: payments.transfer, input.amount: { gt: 1000 } }
  - id: own-reports
    effect: allow
    when: { name: report.read, agent.id: ${AGENT} }
`;

/** The table: what each action is, and the effect and rules every door must answer. */
const TABLE: Array<{ name: string; action: Action; effect: Decision['effect']; rules: string[] }> = [
  { name: 'allow', action: { kind: 'tool', name: 'kb.search', input: { q: 'refunds' } }, effect: 'allow', rules: ['kb-read'] },
  { name: 'async guardrail, clean', action: { kind: 'tool', name: 'chat.post', input: { text: 'have a nice day' } }, effect: 'allow', rules: ['chat'] },
  { name: 'async guardrail, flagged', action: { kind: 'tool', name: 'chat.post', input: { text: 'I will stab you' } }, effect: 'deny', rules: ['no-violence'] },
  { name: 'deny', action: { kind: 'tool', name: 'db.query', input: { sql: 'DROP TABLE users' } }, effect: 'deny', rules: ['no-drop'] },
  { name: 'hash redaction', action: { kind: 'tool', name: 'email.send', input: { body: 'write to ann@example.com today' } }, effect: 'transform', rules: ['hash-emails'] },
  { name: 'encrypt redaction', action: { kind: 'tool', name: 'crm.note', input: { body: 'called ann@example.com' } }, effect: 'transform', rules: ['encrypt-emails'] },
  { name: 'require_approval', action: { kind: 'tool', name: 'payments.transfer', input: { amount: 5000 } }, effect: 'require_approval', rules: ['big-transfer'] },
  { name: 'no agent id (filled in)', action: { kind: 'tool', name: 'report.read', input: {} }, effect: 'allow', rules: ['own-reports'] },
  { name: 'agent id given', action: { agent: { id: AGENT }, kind: 'tool', name: 'report.read', input: {} }, effect: 'allow', rules: ['own-reports'] },
  { name: 'default deny', action: { kind: 'tool', name: 'admin.delete', input: {} }, effect: 'deny', rules: [] },
];

let project: string;
let dataDir: string;
let policyPath: string;
let key: Uint8Array;
let moderation: FakeModerationServer;
let recorder: AuditRecorder | undefined;
let app: FastifyInstance | undefined;
let guard: AgentGuard | undefined;

beforeAll(async () => {
  moderation = await startFakeModeration(API_KEY);
  project = makeTempDir('ag-engine-parity-');
  dataDir = join(project, '.agentguard');
  policyPath = join(project, 'policy.yaml');
  writeFileSync(join(project, 'agentguard.config.json'), JSON.stringify({ agentId: AGENT, dataDir: '.agentguard', policy: 'policy.yaml' }));
  writeFileSync(policyPath, policyText(moderation.baseURL));
  writeFileSync(join(project, 'actions.jsonl'), `${TABLE.map((row) => JSON.stringify(row.action)).join('\n')}\n`);
  const cases = TABLE.map((row) => ({ name: row.name, action: row.action, expect: { effect: row.effect, ...(row.rules.length > 0 ? { rule: row.rules } : {}) } }));
  writeFileSync(join(project, 'policy.test.json'), JSON.stringify({ policy: './policy.yaml', cases }));
  // The folder's key, which every door (simulate and policy test read-only) must use.
  key = loadOrCreateRedactionKey(dataDir);
});

afterAll(async () => {
  await guard?.close();
  await app?.close();
  await recorder?.close();
  await moderation.close();
});

/** What must be identical: effect, reasons (rule, effect, code), findings, policy and the action as transformed. */
function essence(decision: Decision): unknown {
  return {
    effect: decision.effect,
    reasons: decision.reasons.map((r) => ({ rule: r.rule, effect: r.effect, code: r.code })),
    findings: (decision.findings ?? []).map((f) => ({ guardrail: f.guardrail, type: f.type, start: f.start, end: f.end })),
    policy: decision.policy,
    // Encryption draws a fresh IV each time: compare what the tokens decrypt to with the folder's key.
    action: JSON.parse(JSON.stringify(decision.action), (_k, v: unknown) => (typeof v === 'string' ? decryptTokens(v, key) : v)),
  };
}

async function simulateDoor(): Promise<Decision[]> {
  const r = await runCliInProcess(['policy', 'simulate', '--input', 'actions.jsonl', '--json'], { cwd: project });
  expect(r.stderr).toContain(`${TABLE.length} actions`);
  return r.stdout.trim().split('\n').map((line) => JSON.parse(line) as Decision);
}

async function policyTestDoor(): Promise<Decision[]> {
  const r = await runCliInProcess(['policy', 'test', 'policy.test.json', '--json'], { cwd: project });
  const report = JSON.parse(r.stdout) as { passed: number; failed: number; results: Array<{ name: string; passed: boolean; actual: Decision; message?: string }> };
  expect(report.results.filter((c) => !c.passed).map((c) => `${c.name}: ${c.message}`)).toEqual([]);
  expect(r.code).toBe(0);
  return report.results.map((c) => c.actual);
}

async function sdkDoor(): Promise<Decision[]> {
  guard = new AgentGuard({ policy: policyPath, agentId: AGENT, dataDir });
  const decisions: Decision[] = [];
  for (const row of TABLE) decisions.push(await guard.decide(row.action));
  return decisions;
}

async function sidecarDoor(): Promise<Decision[]> {
  const authenticate: Authenticate = async (header) =>
    header === 'Bearer parity-bot' ? { ok: true, token: { id: 'tok_bot', scope: { kind: 'agent', agentId: AGENT } } } : { ok: false, reason: 'unknown' };
  recorder = await AuditRecorder.open({ dataDir });
  app = await buildSidecarApp({ policy: await Policy.fromFile(policyPath), policyPath, recorder, dataDir, authenticate });
  const decisions: Decision[] = [];
  for (const row of TABLE) {
    const res = await app.inject({ method: 'POST', url: '/v1/decide', headers: { authorization: 'Bearer parity-bot' }, payload: { action: row.action } });
    expect(res.statusCode, res.body).toBe(200);
    decisions.push(res.json() as Decision);
  }
  return decisions;
}

describe('the four front doors decide alike (one engine)', () => {
  it('policy simulate, policy test, the SDK and the sidecar give identical decisions on the same table', async () => {
    const doors = {
      simulate: await simulateDoor(),
      'policy test': await policyTestDoor(),
      sdk: await sdkDoor(),
      sidecar: await sidecarDoor(),
    };
    for (const [door, decisions] of Object.entries(doors)) {
      expect(decisions, door).toHaveLength(TABLE.length);
      TABLE.forEach((row, i) => {
        const d = decisions[i]!;
        expect({ door, row: row.name, effect: d.effect, rules: d.reasons.flatMap((r) => (r.rule ? [r.rule] : [])) }).toEqual({ door, row: row.name, effect: row.effect, rules: row.rules });
        expect(d.action.agent?.id, `${door} ${row.name}`).toBe(AGENT);
      });
    }
    const reference = doors.sidecar.map(essence);
    for (const [door, decisions] of Object.entries(doors)) expect({ door, decisions: decisions.map(essence) }).toEqual({ door, decisions: reference });

    // The redactions really happened, with the folder's key: hash tokens are equal across doors (compared above),
    // encrypt tokens differ in their IV but decrypt to the original.
    const hashed = doors.simulate[TABLE.findIndex((r) => r.name === 'hash redaction')]!.action.input as { body: string };
    expect(hashed.body).not.toContain('ann@example.com');
    const encrypted = doors['policy test'][TABLE.findIndex((r) => r.name === 'encrypt redaction')]!.action.input as { body: string };
    expect(encrypted.body).toMatch(/^called <enc:EMAIL_ADDRESS:[A-Za-z0-9_-]+>$/);
    expect(decryptTokens(encrypted.body, key)).toBe('called ann@example.com');
    // The asynchronous guardrail was asked by every door, not skipped: each flagged text reached the fake service.
    expect(moderation.requests.filter((r) => (r.body as { input?: string }).input === 'I will stab you').length).toBeGreaterThanOrEqual(4);
    // Only the recording doors created an approval for the require_approval row.
    const approvalRow = TABLE.findIndex((r) => r.name === 'require_approval');
    expect(doors.sdk[approvalRow]!.approval?.id).toMatch(/^apr_/);
    expect(doors.sidecar[approvalRow]!.approval?.id).toMatch(/^apr_/);
    expect(doors.simulate[approvalRow]!.approval).toBeUndefined();
  });

  it('simulate --explain explains the action with the agent id filled in', async () => {
    const action = JSON.stringify({ kind: 'tool', name: 'report.read', input: {} });
    const r = await runCliInProcess(['policy', 'simulate', '--action', action, '--explain', '--json'], { cwd: project });
    expect(r.code).toBe(0);
    const result = JSON.parse(r.stdout) as Decision & { explanation: Array<{ id: string; matched: boolean | 'error' }> };
    expect(result.effect).toBe('allow');
    expect(result.explanation.find((t) => t.id === 'own-reports')?.matched).toBe(true);
  });

  it('simulate without --record writes nothing, and hash redaction still transforms with a key held in memory', async () => {
    const empty = makeTempDir('ag-engine-nokey-');
    writeFileSync(join(empty, 'agentguard.config.json'), JSON.stringify({ agentId: AGENT, dataDir: '.agentguard', policy: 'policy.yaml' }));
    writeFileSync(join(empty, 'policy.yaml'), policyText(moderation.baseURL));
    const action = JSON.stringify(TABLE.find((r) => r.name === 'hash redaction')!.action);
    const r = await runCliInProcess(['policy', 'simulate', '--action', action, '--json'], { cwd: empty });
    expect(r.code).toBe(0);
    const decision = JSON.parse(r.stdout) as Decision;
    expect(decision.effect).toBe('transform');
    expect((decision.action.input as { body: string }).body).not.toContain('ann@example.com');
    expect(existsSync(join(empty, '.agentguard'))).toBe(false);
  });
});
