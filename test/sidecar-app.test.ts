import { copyFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { AuditRecorder } from '../src/core/audit/recorder.js';
import { Policy } from '../src/core/policy/policy.js';
import { databasePath } from '../src/core/store/open-store.js';
import { buildSidecarApp, type Authenticate, type SidecarAppOptions } from '../src/sidecar/app.js';
import { rawDb, tempDataDir } from './helpers/audit-log.js';

const FIXTURES = fileURLToPath(new URL('./fixtures/sidecar/', import.meta.url));
const POLICY = join(FIXTURES, 'policy.yaml');

const ADMIN = { authorization: 'Bearer admin-secret-1' };
const BOT = { authorization: 'Bearer bot-secret-1' };
const OTHER = { authorization: 'Bearer other-secret-1' };

/** Test double of the token store: fixed tokens mapped to scopes. */
const authenticate: Authenticate = async (header) => {
  if (header === undefined) return { ok: false, reason: 'missing' };
  const match = /^Bearer (\S+)$/.exec(header);
  if (!match) return { ok: false, reason: 'malformed' };
  switch (match[1]) {
    case 'admin-secret-1':
      return { ok: true, token: { id: 'tok_admin', scope: { kind: 'admin' } } };
    case 'bot-secret-1':
      return { ok: true, token: { id: 'tok_bot', scope: { kind: 'agent', agentId: 'bot' } } };
    case 'other-secret-1':
      return { ok: true, token: { id: 'tok_other', scope: { kind: 'agent', agentId: 'other-bot' } } };
    case 'revoked-secret-1':
      return { ok: false, reason: 'revoked' };
    default:
      return { ok: false, reason: 'unknown' };
  }
};

interface Harness {
  app: FastifyInstance;
  recorder: AuditRecorder;
  dataDir: string;
  policyPath: string;
  logs: string[];
}

const open: Harness[] = [];

async function setup(overrides: Partial<SidecarAppOptions> & { withLogs?: boolean } = {}): Promise<Harness> {
  const dataDir = tempDataDir('ag-sidecar-');
  const recorder = await AuditRecorder.open({ dataDir, checkpointIntervalMs: 0 });
  // The policy file lives in the temp folder so reload tests can rewrite it.
  const policyPath = join(dirname(dataDir), 'policy.yaml');
  copyFileSync(POLICY, policyPath);
  const logs: string[] = [];
  const { withLogs, ...rest } = overrides;
  const logger = withLogs
    ? { level: 'info', stream: new Writable({ write: (chunk, _enc, done) => (logs.push(String(chunk)), done()) }) }
    : false;
  const app = await buildSidecarApp({ policy: await Policy.fromFile(policyPath), policyPath, recorder, dataDir, authenticate, logger, ...rest });
  const harness = { app, recorder, dataDir, policyPath, logs };
  open.push(harness);
  return harness;
}

afterEach(async () => {
  for (const h of open.splice(0)) {
    await h.app.close();
    await h.recorder.close().catch(() => undefined);
  }
});

function decide(app: FastifyInstance, headers: Record<string, string>, action: unknown): Promise<LightMyRequestResponse> {
  return app.inject({ method: 'POST', url: '/v1/decide', headers, payload: { action } });
}

/** Asserts the error shape and returns the error. */
/** Asserts the one error shape (`{ error: { code, message, actions, details? } }`, as the CLI prints) and returns the error. */
function errorOf(res: LightMyRequestResponse, status: number): { code: string; message: string; actions: string[]; details?: Record<string, unknown> } {
  expect(res.statusCode, res.body).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/json/);
  const body = res.json();
  expect(Object.keys(body)).toEqual(['error']);
  expect(typeof body.error.code).toBe('string');
  expect(typeof body.error.message).toBe('string');
  expect(body.error.message.length).toBeGreaterThan(5);
  expect(Array.isArray(body.error.actions) && body.error.actions.every((a: unknown) => typeof a === 'string')).toBe(true);
  for (const key of Object.keys(body.error)) expect(['code', 'message', 'actions', 'details']).toContain(key);
  return body.error;
}

async function metric(app: FastifyInstance, line: string): Promise<number | undefined> {
  const text = (await app.inject({ method: 'GET', url: '/metrics' })).body;
  const found = text.split('\n').find((l) => l.startsWith(`${line} `));
  return found === undefined ? undefined : Number(found.slice(line.length + 1));
}

describe('POST /v1/preview', () => {
  it('answers what /v1/decide would, records nothing, and gives the hold-back of the guardrails that may apply', async () => {
    const { app, recorder } = await setup();
    const output = { kind: 'llm_output', name: 'openai.gpt-4o', input: { content: ['Write to ana.lopez@example.com'] } };
    const res = await app.inject({ method: 'POST', url: '/v1/preview', headers: BOT, payload: { action: output } });
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json();
    expect(body.decision).toMatchObject({ effect: 'transform', action: { input: { content: ['Write to <EMAIL_ADDRESS>'] }, agent: { id: 'bot' } } });
    expect(body.holdBack).toBeGreaterThanOrEqual(254); // an email address can be 254 characters long
    const tool = (await app.inject({ method: 'POST', url: '/v1/preview', headers: BOT, payload: { action: { kind: 'tool', name: 'kb.search' } } })).json();
    expect(tool).toMatchObject({ decision: { effect: 'allow' }, holdBack: 0 });
    expect(await recorder.store.audit.count()).toBe(0);
    errorOf(await app.inject({ method: 'POST', url: '/v1/preview', headers: BOT, payload: { action: { ...output, agent: { id: 'other-bot' } } } }), 403);
    errorOf(await app.inject({ method: 'POST', url: '/v1/preview', payload: { action: output } }), 401);
    errorOf(await app.inject({ method: 'POST', url: '/v1/preview', headers: BOT, payload: { action: { kind: 'tool' } } }), 400);
  });
});

describe('POST /v1/decide', () => {
  it('answers allow, deny and transform from the policy and records each decision', async () => {
    const { app, recorder } = await setup();
    const allow = await decide(app, BOT, { kind: 'tool', name: 'kb.search', input: { q: 'refunds' } });
    expect(allow.statusCode).toBe(200);
    const a = allow.json();
    expect(a).toMatchObject({ effect: 'allow', reasons: [{ rule: 'kb-read', effect: 'allow' }], policy: { name: 'sidecar-test' } });
    expect(a.id).toMatch(/^dec_[0-9a-f]{32}$/);
    expect(a.action).toEqual({ kind: 'tool', name: 'kb.search', input: { q: 'refunds' }, agent: { id: 'bot' } });

    const deny = (await decide(app, BOT, { kind: 'tool', name: 'db.query', input: { sql: 'DROP TABLE users' } })).json();
    expect(deny.effect).toBe('deny');
    expect(deny.reasons[0]).toMatchObject({ rule: 'no-destructive-sql', message: 'Destructive SQL is not allowed' });

    const transform = (await decide(app, BOT, { kind: 'tool', name: 'db.connect', input: { host: 'db' } })).json();
    expect(transform.effect).toBe('transform');
    expect(transform.action.input).toEqual({ host: 'db', readOnly: true });

    const records = await recorder.store.audit.query({ order: 'asc' });
    expect(records.map((r) => [r.decisionId, r.agentId, r.effect])).toEqual([
      [a.id, 'bot', 'allow'],
      [deny.id, 'bot', 'deny'],
      [transform.id, 'bot', 'transform'],
    ]);
  });

  it('keeps fields of open objects in the answer (agent, input, context)', async () => {
    const { app } = await setup();
    const action = { agent: { id: 'bot', team: 'support' }, kind: 'tool', name: 'kb.search', input: { deep: { list: [1, { x: null }] } }, context: { session: 's-1' } };
    expect((await decide(app, BOT, action)).json().action).toEqual(action);
  });

  it('fills the agent id from an agent token and refuses another agent with 403', async () => {
    const { app, recorder } = await setup();
    expect((await decide(app, BOT, { kind: 'tool', name: 'kb.search' })).json().action.agent).toEqual({ id: 'bot' });
    expect((await decide(app, BOT, { agent: { id: 'bot' }, kind: 'tool', name: 'kb.search' })).statusCode).toBe(200);
    const forbidden = await decide(app, BOT, { agent: { id: 'other-bot' }, kind: 'tool', name: 'kb.search' });
    const error = errorOf(forbidden, 403);
    expect(error.code).toBe('AGENT_MISMATCH');
    expect(error.message).toContain('"bot"');
    expect(error.message).toContain('"other-bot"');
    expect(await recorder.store.audit.count()).toBe(2);
  });

  it('lets an admin token decide for any agent, or for none', async () => {
    const { app } = await setup();
    expect((await decide(app, ADMIN, { agent: { id: 'other-bot' }, kind: 'tool', name: 'kb.search' })).json().action.agent).toEqual({ id: 'other-bot' });
    expect((await decide(app, ADMIN, { kind: 'tool', name: 'kb.search' })).json().action.agent).toBeUndefined();
  });

  it('answers concurrent requests, each recorded once', async () => {
    const { app, recorder } = await setup();
    const answers = await Promise.all(Array.from({ length: 50 }, (_, i) => decide(app, BOT, { kind: 'tool', name: 'kb.search', input: { i } })));
    expect(answers.every((r) => r.statusCode === 200)).toBe(true);
    expect(new Set(answers.map((r) => r.json().id)).size).toBe(50);
    expect(await recorder.store.audit.count()).toBe(50);
  });

  it('denies (never allows) when the decision cannot be recorded, and /readyz turns 503', async () => {
    const { app, recorder } = await setup();
    await recorder.close();
    const res = await decide(app, BOT, { kind: 'tool', name: 'kb.search' });
    expect(res.statusCode).toBe(200);
    expect(res.json().effect).toBe('deny');
    expect(res.json().reasons.at(-1).code).toBe('audit_unavailable');
    const ready = await app.inject({ method: 'GET', url: '/readyz', headers: ADMIN });
    expect(ready.statusCode).toBe(503);
    const checks = ready.json().checks as { name: string; ok: boolean; message?: string }[];
    expect(checks.find((c) => c.name === 'store')).toMatchObject({ ok: false });
    expect(checks.find((c) => c.name === 'audit')?.message).toMatch(/could not be recorded/);
  });
});

describe('cost in the sidecar', () => {
  it('an outcome with usage writes a priced ledger row; a budget denies the call whose most possible cost does not fit', async () => {
    const { app, recorder } = await setup({ cost: { config: { budgets: [{ scope: 'agent', period: 'day', limitUsd: 0.002 }] }, where: 'test: cost' } });
    const call = { kind: 'llm', name: 'openai.gpt-4o', input: { model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }], max_tokens: 100 } };
    const first = (await decide(app, BOT, call)).json();
    expect(first.effect).toBe('allow');
    const outcome = await app.inject({ method: 'POST', url: `/v1/decisions/${first.id}/outcome`, headers: BOT, payload: { status: 'ok', usage: { model: 'gpt-4o-2024-08-06', inputTokens: 40, outputTokens: 100 } } });
    expect(outcome.statusCode, outcome.body).toBe(204);
    const [row] = await recorder.store.cost.ledger({});
    // Priced as the model that served it (the catalog lists gpt-4o-2024-08-06): 40 × $2.50/M + 100 × $10/M = $0.0011.
    expect(row).toMatchObject({ decisionId: first.id, model: 'gpt-4o-2024-08-06', costNano: 1_100_000, priced: 'exact', scope: { agent: 'bot' } });
    const second = (await decide(app, BOT, call)).json();
    expect(second.effect).toBe('deny');
    expect(second.reasons.at(-1)).toMatchObject({ code: 'budget_exceeded' });
    // Another agent has its own daily limit.
    const admin = (await decide(app, ADMIN, { ...call, agent: { id: 'other-bot' } })).json();
    expect(admin.effect).toBe('allow');
  });

  it('an outcome whose ledger row cannot be written is kept once (204), and the failure is a warning', async () => {
    const { app, recorder, dataDir } = await setup();
    const call = { kind: 'llm', name: 'openai.gpt-4o', input: { model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }], max_tokens: 100 } };
    const db = rawDb(databasePath({ dataDir }));
    db.exec("CREATE TRIGGER no_ledger BEFORE INSERT ON cost_ledger BEGIN SELECT RAISE(ABORT, 'ledger is full'); END");
    db.close();
    const decision = (await decide(app, BOT, call)).json();
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.message);
    process.on('warning', onWarning);
    try {
      const outcome = await app.inject({ method: 'POST', url: `/v1/decisions/${decision.id}/outcome`, headers: BOT, payload: { status: 'ok', usage: { inputTokens: 4, outputTokens: 2 } } });
      expect(outcome.statusCode, outcome.body).toBe(204);
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings).toEqual([expect.stringContaining(`could not record the cost of ${decision.id}: ledger is full`)]);
    expect(await recorder.store.audit.query({ type: 'outcome' })).toHaveLength(1);
    expect(await recorder.store.cost.ledger({})).toHaveLength(0);
  });

  it('refuses to start on an invalid cost config, naming the field', async () => {
    await expect(setup({ cost: { config: { budgets: [{ scope: 'team', period: 'day', limitUsd: 1 }] }, where: 'agentguard.config.json: cost' } })).rejects.toThrow(
      /agentguard\.config\.json: cost\.budgets\[0\]\.scope must be one of global, project, agent, user, session/,
    );
  });
});

describe('POST /v1/decisions/:id/outcome', () => {
  it('records an outcome once: 204, then 409', async () => {
    const { app, recorder } = await setup();
    const decision = (await decide(app, BOT, { kind: 'tool', name: 'kb.search' })).json();
    const url = `/v1/decisions/${decision.id}/outcome`;
    const res = await app.inject({ method: 'POST', url, headers: BOT, payload: { status: 'error', durationMs: 12.5, error: 'timeout talking to kb' } });
    expect(res.statusCode).toBe(204);
    expect(res.body).toBe('');
    const [outcome] = await recorder.store.audit.query({ type: 'outcome' });
    expect(outcome).toMatchObject({ decisionId: decision.id, agentId: 'bot', data: { status: 'error', durationMs: 12.5, name: 'kb.search' } });
    expect(errorOf(await app.inject({ method: 'POST', url, headers: BOT, payload: { status: 'ok' } }), 409).code).toBe('OUTCOME_ALREADY_RECORDED');
  });

  it('records token usage by kind, and rejects usage it does not understand', async () => {
    const { app, recorder } = await setup();
    const decision = (await decide(app, BOT, { kind: 'llm', name: 'openai.gpt-4o' })).json();
    const url = `/v1/decisions/${decision.id}/outcome`;
    const usage = { model: 'gpt-4o-2024-08-06', inputTokens: 1200, outputTokens: 80, cacheReadInputTokens: 1024, reasoningTokens: 0 };
    const bad = await app.inject({ method: 'POST', url, headers: BOT, payload: { status: 'ok', usage: { ...usage, inputTokens: -5 } } });
    expect(errorOf(bad, 400).code).toBe('INVALID_REQUEST');
    expect((await app.inject({ method: 'POST', url, headers: BOT, payload: { status: 'ok', durationMs: 840, usage } })).statusCode).toBe(204);
    const [outcome] = await recorder.store.audit.query({ type: 'outcome' });
    expect(outcome.data).toEqual({ name: 'openai.gpt-4o', status: 'ok', durationMs: 840, usage });
  });

  it('404 for an unknown or evicted decision id', async () => {
    const { app } = await setup({ decisionCacheSize: 2 });
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await decide(app, BOT, { kind: 'tool', name: 'kb.search' })).json().id);
    const unknown = await app.inject({ method: 'POST', url: '/v1/decisions/dec_0000/outcome', headers: BOT, payload: { status: 'ok' } });
    expect(errorOf(unknown, 404).code).toBe('DECISION_NOT_FOUND');
    const evicted = await app.inject({ method: 'POST', url: `/v1/decisions/${ids[0]}/outcome`, headers: BOT, payload: { status: 'ok' } });
    expect(errorOf(evicted, 404).code).toBe('DECISION_NOT_FOUND');
    const kept = await app.inject({ method: 'POST', url: `/v1/decisions/${ids[2]}/outcome`, headers: BOT, payload: { status: 'ok' } });
    expect(kept.statusCode).toBe(204);
  });

  it("403 when an agent token reports on another agent's decision; admin may", async () => {
    const { app } = await setup();
    const decision = (await decide(app, BOT, { kind: 'tool', name: 'kb.search' })).json();
    const url = `/v1/decisions/${decision.id}/outcome`;
    expect(errorOf(await app.inject({ method: 'POST', url, headers: OTHER, payload: { status: 'ok' } }), 403).code).toBe('AGENT_MISMATCH');
    expect((await app.inject({ method: 'POST', url, headers: ADMIN, payload: { status: 'ok' } })).statusCode).toBe(204);
  });
});

describe('GET /v1/audit', () => {
  async function seeded() {
    const h = await setup();
    await decide(h.app, BOT, { kind: 'tool', name: 'kb.search' });
    await decide(h.app, BOT, { kind: 'tool', name: 'db.query', input: { sql: 'drop table x' } });
    await decide(h.app, OTHER, { kind: 'tool', name: 'kb.search' });
    return h;
  }

  it('shows an agent token only its own records, newest first', async () => {
    const { app } = await seeded();
    const res = await app.inject({ method: 'GET', url: '/v1/audit', headers: BOT });
    expect(res.statusCode).toBe(200);
    const records = res.json().records as { seq: number; agentId: string; effect: string }[];
    expect(records.map((r) => [r.seq, r.agentId, r.effect])).toEqual([
      [2, 'bot', 'deny'],
      [1, 'bot', 'allow'],
    ]);
    expect(errorOf(await app.inject({ method: 'GET', url: '/v1/audit?agent=other-bot', headers: BOT }), 403).code).toBe('AGENT_MISMATCH');
  });

  it('applies the filters of `audit query` for an admin', async () => {
    const { app } = await seeded();
    const all = await app.inject({ method: 'GET', url: '/v1/audit', headers: ADMIN });
    expect(all.json().records).toHaveLength(3);
    const other = await app.inject({ method: 'GET', url: '/v1/audit?agent=other-bot', headers: ADMIN });
    expect(other.json().records.map((r: { agentId: string }) => r.agentId)).toEqual(['other-bot']);
    const denies = await app.inject({ method: 'GET', url: '/v1/audit?effect=deny&rule=no-destructive-sql&type=decision&since=1h', headers: ADMIN });
    expect(denies.json().records.map((r: { seq: number }) => r.seq)).toEqual([2]);
    const limited = await app.inject({ method: 'GET', url: '/v1/audit?limit=1', headers: ADMIN });
    expect(limited.json().records.map((r: { seq: number }) => r.seq)).toEqual([3]);
    const future = await app.inject({ method: 'GET', url: '/v1/audit?since=2999-01-01', headers: ADMIN });
    expect(future.json().records).toEqual([]);
  });

  it('refuses bad filters with 400 naming the parameter', async () => {
    const { app } = await setup();
    const bogus = errorOf(await app.inject({ method: 'GET', url: '/v1/audit?since=yesterday', headers: ADMIN }), 400);
    expect(bogus).toMatchObject({ code: 'INVALID_QUERY' });
    expect(bogus.message).toMatch(/^since "yesterday"/);
    expect(errorOf(await app.inject({ method: 'GET', url: '/v1/audit?since=2h&until=3h', headers: ADMIN }), 400).message).toMatch(/since .* is not before until/);
    expect(errorOf(await app.inject({ method: 'GET', url: '/v1/audit?limit=5000', headers: ADMIN }), 400).message).toMatch(/limit 5000 is more than 1000/);
    expect(errorOf(await app.inject({ method: 'GET', url: '/v1/audit?limit=ten', headers: ADMIN }), 400).message).toMatch(/querystring\.limit/);
    expect(errorOf(await app.inject({ method: 'GET', url: '/v1/audit?effect=maybe', headers: ADMIN }), 400).message).toMatch(/querystring\.effect must be one of: allow, deny/);
    expect(errorOf(await app.inject({ method: 'GET', url: '/v1/audit?colour=red', headers: ADMIN }), 400).message).toBe('querystring.colour is not a known field; remove it');
  });
});

describe('GET /v1/audit/verify', () => {
  it('is admin-only and finds a changed record', async () => {
    const { app, dataDir } = await setup();
    await decide(app, BOT, { kind: 'tool', name: 'kb.search' });
    await decide(app, BOT, { kind: 'tool', name: 'kb.read' });
    expect(errorOf(await app.inject({ method: 'GET', url: '/v1/audit/verify', headers: BOT }), 403).code).toBe('FORBIDDEN');
    const ok = await app.inject({ method: 'GET', url: '/v1/audit/verify', headers: ADMIN });
    expect(ok.json()).toEqual({ ok: true, records: 2, checkpoints: 0, problems: [] });

    const db = rawDb(databasePath({ dataDir }));
    db.prepare("UPDATE audit_records SET effect = 'deny' WHERE seq = 1").run();
    db.close();
    const bad = (await app.inject({ method: 'GET', url: '/v1/audit/verify', headers: ADMIN })).json();
    expect(bad.ok).toBe(false);
    expect(bad.problems[0]).toMatchObject({ seq: 1, kind: 'changed' });
  });
});

describe('policy routes', () => {
  it('GET /v1/policy shows the policy in force (admin only)', async () => {
    const { app, policyPath } = await setup();
    const res = await app.inject({ method: 'GET', url: '/v1/policy', headers: ADMIN });
    expect(res.json()).toMatchObject({ name: 'sidecar-test', rules: 6, source: policyPath });
    expect(res.json().hash).toBe((await Policy.fromFile(POLICY)).hash);
    expect(errorOf(await app.inject({ method: 'GET', url: '/v1/policy', headers: BOT }), 403).code).toBe('FORBIDDEN');
  });

  it('reloads a good policy and decides with it at once', async () => {
    const { app, policyPath } = await setup();
    expect((await decide(app, BOT, { kind: 'tool', name: 'kb.delete' })).json().effect).toBe('allow');
    copyFileSync(join(FIXTURES, 'policy-v2.yaml'), policyPath);
    const res = await app.inject({ method: 'POST', url: '/v1/policy/reload', headers: ADMIN });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ changed: true, policy: { name: 'sidecar-test-v2', rules: 2, lastReload: { ok: true } } });
    const after = (await decide(app, BOT, { kind: 'tool', name: 'kb.delete' })).json();
    expect(after).toMatchObject({ effect: 'deny', reasons: [{ rule: 'kb-delete-blocked' }], policy: { name: 'sidecar-test-v2' } });
    expect((await app.inject({ method: 'POST', url: '/v1/policy/reload', headers: ADMIN, payload: {} })).json().changed).toBe(false);
    expect(await metric(app, 'agentguard_policy_reloads_total{result="ok"}')).toBe(2);
  });

  it('refuses an invalid policy with 422 and its problems; the old policy stays in force', async () => {
    const { app, policyPath } = await setup();
    const before = (await app.inject({ method: 'GET', url: '/v1/policy', headers: ADMIN })).json();
    copyFileSync(join(FIXTURES, 'invalid-policy.yaml'), policyPath);
    const error = errorOf(await app.inject({ method: 'POST', url: '/v1/policy/reload', headers: ADMIN }), 422);
    expect(error.code).toBe('POLICY_INVALID');
    const problems = error.details?.problems as { path: string; line?: number; severity: string }[];
    expect(problems.some((p) => p.severity === 'error' && p.path.startsWith('rules[0].when') && p.line === 6)).toBe(true);

    const now = (await app.inject({ method: 'GET', url: '/v1/policy', headers: ADMIN })).json();
    expect(now.hash).toBe(before.hash);
    expect(now.lastReload).toMatchObject({ ok: false });
    expect((await decide(app, BOT, { kind: 'tool', name: 'db.query', input: { sql: 'SELECT 1' } })).json()).toMatchObject({ effect: 'allow', policy: { name: 'sidecar-test' } });

    const ready = await app.inject({ method: 'GET', url: '/readyz', headers: ADMIN });
    expect(ready.statusCode).toBe(200);
    expect(ready.json().policy).toMatchObject({ name: 'sidecar-test', lastReload: { ok: false, error: expect.stringContaining('policy.yaml') } });
    expect(await metric(app, 'agentguard_policy_reload_failures_total')).toBe(1);

    writeFileSync(policyPath, 'version: 1\nname: [unclosed\n');
    const syntax = errorOf(await app.inject({ method: 'POST', url: '/v1/policy/reload', headers: ADMIN }), 422);
    expect(syntax.code).toBe('SOURCE_SYNTAX');
    expect((syntax.details?.problems as { line?: number }[])[0].line).toBeGreaterThan(0);
    expect(await metric(app, 'agentguard_policy_reload_failures_total')).toBe(2);
  });

  it('409 when there is no policy file to reload; 403 for agent tokens', async () => {
    const { app } = await setup({ policyPath: undefined });
    expect(errorOf(await app.inject({ method: 'POST', url: '/v1/policy/reload', headers: ADMIN }), 409).code).toBe('RELOAD_UNAVAILABLE');
    expect(errorOf(await app.inject({ method: 'POST', url: '/v1/policy/reload', headers: BOT }), 403).code).toBe('FORBIDDEN');
  });

  it('app.sidecar.reloadPolicy() is the same reload (for SIGHUP)', async () => {
    const { app, policyPath } = await setup();
    copyFileSync(join(FIXTURES, 'policy-v2.yaml'), policyPath);
    const result = await app.sidecar.reloadPolicy();
    expect(result).toMatchObject({ ok: true, changed: true });
    expect(app.sidecar.services.policy.current.name).toBe('sidecar-test-v2');
  });
});

describe('health, metrics and documentation', () => {
  it('/healthz answers without a token', async () => {
    const { app } = await setup();
    const res = await app.inject({ method: 'GET', url: '/healthz' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ok' });
  });

  it('/readyz reports its checks', async () => {
    const { app } = await setup();
    const res = await app.inject({ method: 'GET', url: '/readyz', headers: ADMIN });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ status: 'ready', policy: { name: 'sidecar-test' } });
    expect(res.json().checks.map((c: { name: string; ok: boolean }) => [c.name, c.ok])).toEqual([
      ['policy', true],
      ['store', true],
      ['audit', true],
    ]);
  });

  it('/metrics counts decisions by effect, latency, auth failures and requests in flight', async () => {
    const { app } = await setup();
    await decide(app, BOT, { kind: 'tool', name: 'kb.search' });
    await decide(app, BOT, { kind: 'tool', name: 'kb.search' });
    await decide(app, BOT, { kind: 'tool', name: 'db.query', input: { sql: 'DELETE FROM t' } });
    await decide(app, {}, { kind: 'tool', name: 'kb.search' });
    await decide(app, { authorization: 'Bearer nope' }, { kind: 'tool', name: 'kb.search' });
    await decide(app, { authorization: 'Bearer revoked-secret-1' }, { kind: 'tool', name: 'kb.search' });
    await app.inject({ method: 'GET', url: '/v1/policy', headers: BOT });
    const res = await app.inject({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(await metric(app, 'agentguard_decisions_total{effect="allow"}')).toBe(2);
    expect(await metric(app, 'agentguard_decisions_total{effect="deny"}')).toBe(1);
    expect(await metric(app, 'agentguard_decisions_total{effect="require_approval"}')).toBe(0);
    expect(await metric(app, 'agentguard_decision_duration_seconds_count')).toBe(3);
    expect(await metric(app, 'agentguard_auth_failures_total{reason="missing"}')).toBe(1);
    expect(await metric(app, 'agentguard_auth_failures_total{reason="unknown"}')).toBe(1);
    expect(await metric(app, 'agentguard_auth_failures_total{reason="revoked"}')).toBe(1);
    expect(await metric(app, 'agentguard_auth_failures_total{reason="scope"}')).toBe(1);
    // The scrape itself is the one request in flight.
    expect(await metric(app, 'agentguard_http_requests_in_flight')).toBe(1);
  });

  it('/openapi.json is generated from the route schemas, and /docs serves it', async () => {
    const { app } = await setup();
    const doc = (await app.inject({ method: 'GET', url: '/openapi.json' })).json();
    expect(doc.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.paths).sort()).toEqual(
      ['/healthz', '/metrics', '/readyz', '/v1/audit', '/v1/audit/verify', '/v1/approvals', '/v1/approvals/callback', '/v1/slack/interactions', '/v1/approvals/{id}', '/v1/approvals/{id}/approve', '/v1/approvals/{id}/consume', '/v1/approvals/{id}/deny', '/v1/decide', '/v1/decisions/{id}/outcome', '/v1/policy', '/v1/policy/reload', '/v1/preview'].sort(),
    );
    const decideOp = doc.paths['/v1/decide'].post;
    expect(decideOp.security).toEqual([{ bearer: [] }]);
    expect(decideOp.requestBody.content['application/json'].schema.properties.action).toEqual({ $ref: '#/components/schemas/Action' });
    expect(decideOp.responses['200'].content['application/json'].schema).toEqual({ $ref: '#/components/schemas/Decision' });
    expect(Object.keys(decideOp.responses).sort()).toEqual(['200', '400', '401', '403', '413', '415', '500', '503']);
    expect(doc.components.schemas.Action.required).toEqual(['kind', 'name']);
    expect(doc.components.securitySchemes.bearer).toEqual({ type: 'http', scheme: 'bearer' });
    expect(doc.paths['/v1/decisions/{id}/outcome'].post.parameters[0]).toMatchObject({ name: 'id', in: 'path', required: true });
    const docs = await app.inject({ method: 'GET', url: '/docs' });
    expect(docs.statusCode).toBe(200);
    expect(docs.headers['content-type']).toMatch(/^text\/html/);
    expect(docs.body).toContain('Swagger UI');
  });
});

describe('auth', () => {
  it('401 with WWW-Authenticate when the token is missing, wrong, malformed or revoked', async () => {
    const { app } = await setup();
    const cases: Record<string, string>[] = [{}, { authorization: 'Bearer wrong' }, { authorization: 'Basic YWRtaW4=' }, { authorization: 'Bearer revoked-secret-1' }];
    for (const headers of cases) {
      for (const req of [
        { method: 'POST' as const, url: '/v1/decide', payload: { action: { kind: 'tool', name: 'kb.search' } } },
        { method: 'GET' as const, url: '/v1/audit' },
        { method: 'GET' as const, url: '/v1/policy' },
      ]) {
        const res = await app.inject({ ...req, headers });
        expect(errorOf(res, 401).code).toBe('UNAUTHORIZED');
        expect(res.headers['www-authenticate']).toBe('Bearer');
      }
    }
    expect(errorOf(await decide(app, {}, { kind: 'tool', name: 'kb.search' }), 401).message).toMatch(/Authorization: Bearer <token>/);
  });

  it('checks the token before reading the body', async () => {
    const { app } = await setup();
    const res = await app.inject({ method: 'POST', url: '/v1/decide', headers: { 'content-type': 'application/json' }, payload: '{not json' });
    expect(errorOf(res, 401).code).toBe('UNAUTHORIZED');
  });

  it('403 for an agent token on every admin route', async () => {
    const { app } = await setup();
    for (const [method, url] of [['GET', '/v1/policy'], ['POST', '/v1/policy/reload'], ['GET', '/v1/audit/verify']] as const) {
      expect(errorOf(await app.inject({ method, url, headers: BOT }), 403).code).toBe('FORBIDDEN');
    }
  });

  it('503 (not 401, not a crash) when the token store fails', async () => {
    const { app, logs } = await setup({
      withLogs: true,
      authenticate: async () => {
        throw new Error('token table is locked at /secret/path');
      },
    });
    const error = errorOf(await decide(app, ADMIN, { kind: 'tool', name: 'kb.search' }), 503);
    expect(error.code).toBe('AUTH_UNAVAILABLE');
    expect(JSON.stringify(error)).not.toContain('/secret/path');
    expect(logs.join('')).toContain('token table is locked');
  });
});

describe('bad input is a 4xx with the error shape, never a 5xx', () => {
  const json = { ...ADMIN, 'content-type': 'application/json' };
  const deep = (levels: number) => '{"a":'.repeat(levels) + '1' + '}'.repeat(levels);
  const cases: { name: string; status: number; code: string; req: Parameters<FastifyInstance['inject']>[0] & object; message?: RegExp }[] = [
    { name: 'malformed JSON', status: 400, code: 'MALFORMED_JSON', req: { method: 'POST', url: '/v1/decide', headers: json, payload: '{"action": {"kind": "tool",' }, message: /not valid JSON/ },
    { name: 'empty JSON body', status: 400, code: 'MALFORMED_JSON', req: { method: 'POST', url: '/v1/decide', headers: json, payload: '' } },
    { name: 'JSON that is not an object', status: 400, code: 'INVALID_REQUEST', req: { method: 'POST', url: '/v1/decide', headers: json, payload: '[1,2]' }, message: /body must be a JSON object/ },
    { name: 'no body', status: 400, code: 'INVALID_REQUEST', req: { method: 'POST', url: '/v1/decide', headers: ADMIN } },
    { name: 'text/plain', status: 415, code: 'UNSUPPORTED_MEDIA_TYPE', req: { method: 'POST', url: '/v1/decide', headers: { ...ADMIN, 'content-type': 'text/plain' }, payload: 'decide please' }, message: /application\/json/ },
    { name: 'form encoded', status: 415, code: 'UNSUPPORTED_MEDIA_TYPE', req: { method: 'POST', url: '/v1/decide', headers: { ...ADMIN, 'content-type': 'application/x-www-form-urlencoded' }, payload: 'action=1' } },
    { name: 'unknown top-level field', status: 400, code: 'INVALID_REQUEST', req: { method: 'POST', url: '/v1/decide', headers: ADMIN, payload: { action: { kind: 'tool', name: 'x' }, admin: true } }, message: /^body\.admin is not a known field/ },
    { name: 'unknown action field', status: 400, code: 'INVALID_REQUEST', req: { method: 'POST', url: '/v1/decide', headers: ADMIN, payload: { action: { kind: 'tool', name: 'x', effect: 'allow' } } }, message: /^body\.action\.effect is not a known field/ },
    { name: 'missing action', status: 400, code: 'INVALID_REQUEST', req: { method: 'POST', url: '/v1/decide', headers: ADMIN, payload: {} }, message: /^body\.action is required/ },
    { name: 'missing name', status: 400, code: 'INVALID_REQUEST', req: { method: 'POST', url: '/v1/decide', headers: ADMIN, payload: { action: { kind: 'tool' } } }, message: /^body\.action\.name is required/ },
    { name: 'wrong type', status: 400, code: 'INVALID_REQUEST', req: { method: 'POST', url: '/v1/decide', headers: ADMIN, payload: { action: { kind: 7, name: 'x' } } }, message: /^body\.action\.kind must be of type string/ },
    { name: 'input not an object', status: 400, code: 'INVALID_REQUEST', req: { method: 'POST', url: '/v1/decide', headers: ADMIN, payload: { action: { kind: 'tool', name: 'x', input: 'sql' } } } },
    { name: 'agent id too long', status: 400, code: 'INVALID_REQUEST', req: { method: 'POST', url: '/v1/decide', headers: ADMIN, payload: { action: { agent: { id: 'a'.repeat(300) }, kind: 'tool', name: 'x' } } }, message: /body\.action\.agent\.id must NOT have more than 256 characters/ },
    { name: 'huge name', status: 400, code: 'INVALID_REQUEST', req: { method: 'POST', url: '/v1/decide', headers: ADMIN, payload: { action: { kind: 'tool', name: 'n'.repeat(100_000) } } } },
    { name: 'huge string over the body limit', status: 413, code: 'BODY_TOO_LARGE', message: /larger than the limit of 1048576 bytes/, req: { method: 'POST', url: '/v1/decide', headers: ADMIN, payload: { action: { kind: 'tool', name: 'x', input: { text: 'x'.repeat(2 * 1024 * 1024) } } } } },
    { name: 'deeply nested JSON', status: 400, code: 'JSON_TOO_DEEP', req: { method: 'POST', url: '/v1/decide', headers: json, payload: `{"action":{"kind":"tool","name":"x","input":${deep(100)}}}` }, message: /nested more than 64 levels/ },
    { name: 'very deeply nested arrays', status: 400, code: 'JSON_TOO_DEEP', req: { method: 'POST', url: '/v1/decide', headers: json, payload: `{"action":${'['.repeat(100_000)}${']'.repeat(100_000)}}` } },
    { name: '__proto__ key', status: 400, code: 'FORBIDDEN_KEY', req: { method: 'POST', url: '/v1/decide', headers: json, payload: '{"action":{"kind":"tool","name":"x","input":{"__proto__":{"admin":true}}}}' } },
    { name: 'outcome with a bad status', status: 400, code: 'INVALID_REQUEST', req: { method: 'POST', url: '/v1/decisions/dec_1/outcome', headers: ADMIN, payload: { status: 'maybe' } }, message: /must be one of: ok, error/ },
    { name: 'outcome with a negative duration', status: 400, code: 'INVALID_REQUEST', req: { method: 'POST', url: '/v1/decisions/dec_1/outcome', headers: ADMIN, payload: { status: 'ok', durationMs: -1 } } },
    { name: 'outcome with an unknown field', status: 400, code: 'INVALID_REQUEST', req: { method: 'POST', url: '/v1/decisions/dec_1/outcome', headers: ADMIN, payload: { status: 'ok', usage: { tokens: 1 }, extra: 1 } } },
    { name: 'reload with a body field', status: 400, code: 'INVALID_REQUEST', req: { method: 'POST', url: '/v1/policy/reload', headers: ADMIN, payload: { path: '/etc/passwd' } }, message: /^body\.path is not a known field/ },
    { name: 'unknown route', status: 404, code: 'NOT_FOUND', req: { method: 'GET', url: '/v1/nothing', headers: ADMIN } },
    { name: 'wrong method', status: 404, code: 'NOT_FOUND', req: { method: 'DELETE', url: '/v1/decide', headers: ADMIN } },
  ];

  for (const c of cases) {
    it(`${c.name} → ${c.status} ${c.code}`, async () => {
      const { app, recorder } = await setup();
      const error = errorOf(await app.inject(c.req), c.status);
      expect(error.code).toBe(c.code);
      if (c.message) expect(error.message).toMatch(c.message);
      expect(await recorder.store.audit.count()).toBe(0);
      expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    });
  }

  it('accepts nesting up to the limit', async () => {
    const { app } = await setup();
    const res = await app.inject({ method: 'POST', url: '/v1/decide', headers: json, payload: `{"action":{"kind":"tool","name":"kb.x","input":${deep(60)}}}` });
    expect(res.statusCode).toBe(200);
  });

  it('honours a smaller bodyLimit', async () => {
    const { app } = await setup({ bodyLimit: 1024 });
    const res = await decide(app, ADMIN, { kind: 'tool', name: 'kb.x', input: { text: 'y'.repeat(2000) } });
    expect(errorOf(res, 413).code).toBe('BODY_TOO_LARGE');
    expect((await decide(app, ADMIN, { kind: 'tool', name: 'kb.x' })).statusCode).toBe(200);
  });
});

describe('server errors', () => {
  it('answers a generic 500, logs it with request context, and never logs the token', async () => {
    const { app, recorder, logs } = await setup({ withLogs: true });
    await recorder.close(); // the store is closed under the app: queries now fail inside the route
    const res = await app.inject({ method: 'GET', url: '/v1/audit', headers: ADMIN });
    const error = errorOf(res, 500);
    expect(error).toEqual({
      code: 'INTERNAL',
      message: 'The sidecar failed to handle this request; the details are in its log.',
      actions: ['Read the sidecar log (`agentguard sidecar logs`) for this request, and report it at the project issue tracker.'],
    });
    const lines = logs.map((l) => JSON.parse(l) as Record<string, unknown>);
    const failure = lines.find((l) => l.msg === 'request failed');
    expect(failure).toMatchObject({ level: 50, route: '/v1/audit', method: 'GET' });
    expect(typeof failure?.reqId).toBe('string');
    expect((failure?.err as { message: string }).message).toMatch(/not open|closed/i);
    expect(logs.join('')).not.toContain('admin-secret-1');
  });

  it('redacts the Authorization header wherever it is logged', async () => {
    const { app, logs } = await setup({ withLogs: true });
    app.log.info({ req: { headers: { authorization: 'Bearer admin-secret-1' } }, headers: { authorization: 'Bearer admin-secret-1' } }, 'probe');
    const line = logs.find((l) => l.includes('"probe"'));
    expect(line).toBeDefined();
    expect(line).not.toContain('admin-secret-1');
    expect(line).toContain('[redacted]');
  });
});
