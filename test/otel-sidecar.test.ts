import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { AuditRecorder } from '../src/core/audit/recorder.js';
import { Policy } from '../src/core/policy/policy.js';
import { buildSidecarApp, type Authenticate } from '../src/sidecar/app.js';
import { startOtlpTelemetry, type OtlpTelemetry } from '../src/telemetry/otlp.js';
import { FakeCollector, type CollectedSpan } from './helpers/otlp-collector.js';
import { makeTempDir } from './helpers/temp-dirs.js';

const POLICY = `version: 1
name: otel-test
default: deny
rules:
  - id: no-secrets
    effect: deny
    when: { kind: tool, detect: { guardrail: secrets } }
    message: Secrets may not leave
  - id: redact-emails
    effect: transform
    when: { kind: tool, name: mail.send, detect: { guardrail: pii, in: input.body, types: [EMAIL_ADDRESS] } }
    transform: [ { redact: input.body, guardrail: pii, types: [EMAIL_ADDRESS] } ]
  - id: refunds
    effect: require_approval
    when: { kind: tool, name: payments.refund }
  - id: search-rate
    effect: allow
    when: { kind: tool, name: web.search }
    rate: { max: 1, per: 1m }
  - id: tools
    effect: allow
    when: { kind: tool }
  - id: model-calls
    effect: allow
    when: { kind: llm, name: { glob: "openai.*" } }
`;

const BOT = { authorization: 'Bearer bot-secret-1' };
const authenticate: Authenticate = async (header) =>
  header === 'Bearer bot-secret-1' ? { ok: true, token: { id: 'tok_bot', scope: { kind: 'agent', agentId: 'bot' } } } : { ok: false, reason: 'unknown' };

// A secret and an e-mail address the agent sends: neither may reach the collector unless payloads are asked for.
const TOKEN = 'ghp_R2d4kP9xLm3Qz7Vb1Nc8Ws5Ty6Ua0Hj2Ke4F';
const EMAIL = 'jane.doe@example.org';

interface Harness {
  app: FastifyInstance;
  recorder: AuditRecorder;
  telemetry: OtlpTelemetry;
  collector: FakeCollector;
}
const open: Harness[] = [];

async function setup(options: { payloads?: boolean; failing?: boolean; headers?: Record<string, string>; inlineMaxChars?: number } = {}): Promise<Harness> {
  const dir = makeTempDir('ag-otel-');
  const dataDir = join(dir, '.agentguard');
  const policyPath = join(dir, 'policy.yaml');
  writeFileSync(policyPath, POLICY);
  const collector = await new FakeCollector().start();
  collector.failing = options.failing === true;
  const telemetry = await startOtlpTelemetry({
    config: { otlp: { endpoint: collector.url, serviceName: 'otel-test', ...(options.headers ? { headers: options.headers } : {}) }, ...(options.payloads ? { payloads: true } : {}) },
    defaultServiceName: 'agentguard-sidecar',
    kind: 'server',
    env: {},
  });
  const recorder = await AuditRecorder.open({ dataDir, checkpointIntervalMs: 0 });
  const app = await buildSidecarApp({
    policy: await Policy.fromFile(policyPath),
    policyPath,
    recorder,
    dataDir,
    authenticate,
    tracer: telemetry.tracer,
    ...(options.inlineMaxChars !== undefined ? { guardrails: { workers: 1, inlineMaxChars: options.inlineMaxChars } } : {}),
  });
  const harness = { app, recorder, telemetry, collector };
  open.push(harness);
  return harness;
}

afterEach(async () => {
  for (const h of open.splice(0)) {
    await h.app.close();
    await h.telemetry.shutdown();
    await h.recorder.close().catch(() => undefined);
    await h.collector.stop();
  }
});

async function decide(h: Harness, action: unknown, headers: Record<string, string> = {}) {
  const res = await h.app.inject({ method: 'POST', url: '/v1/decide', headers: { ...BOT, ...headers }, payload: { action } });
  expect(res.statusCode, res.body).toBe(200);
  return res.json() as { id: string; effect: string; policy: { hash: string } };
}

function rootOf(collector: FakeCollector, decisionId: string): CollectedSpan {
  const root = collector.spans.find((s) => s.attributes['agentguard.decision.id'] === decisionId && s.name.startsWith('run_guardrail agentguard'));
  expect(root, `no span for ${decisionId}`).toBeDefined();
  return root!;
}

describe('sidecar trace export (OTLP/HTTP JSON to a fake collector)', () => {
  it('sends one span per decision with a child per stage the pipeline ran, and the GenAI guardrail attributes', async () => {
    const h = await setup();
    const decision = await decide(h, { kind: 'tool', name: 'mail.send', input: { to: 'x', body: `write to ${EMAIL}` }, context: { session: { id: 'conv-7' } } });
    expect(decision.effect).toBe('transform');
    await h.telemetry.flush();

    // Only what came to the traces path: on a loaded machine another test's "closed port" can be this collector's port.
    const exports = h.collector.requests.filter((r) => r.path === '/v1/traces');
    expect(exports.length).toBeGreaterThan(0);
    expect(exports.every((r) => r.contentType?.startsWith('application/json'))).toBe(true);
    const root = rootOf(h.collector, decision.id);
    expect(root.kind).toBe(2); // SERVER
    expect(root.resource['service.name']).toBe('otel-test');
    expect(root.scope).toBe('agentguard');
    expect(root.attributes).toMatchObject({
      'gen_ai.operation.name': 'run_guardrail',
      'gen_ai.guardrail.component.name': 'agentguard',
      'gen_ai.guardrail.target.type': 'input',
      'gen_ai.guardrail.target.subtype': 'tool_call',
      'gen_ai.guardrail.verdict.type': 'modify',
      'gen_ai.guardrail.security.policy.id': 'otel-test',
      'gen_ai.guardrail.security.policy.rule.id': 'redact-emails',
      'gen_ai.guardrail.security.content.modified': true,
      'gen_ai.guardrail.security.risk.category': 'sensitive_info_disclosure',
      'gen_ai.tool.name': 'mail.send',
      'gen_ai.agent.id': 'bot',
      'gen_ai.conversation.id': 'conv-7',
      'agentguard.decision.effect': 'transform',
      'agentguard.policy.hash': decision.policy.hash,
      'agentguard.action.kind': 'tool',
      'agentguard.action.name': 'mail.send',
      'agentguard.operation': 'decide',
    });
    expect(root.attributes['agentguard.rule.ids']).toEqual(['redact-emails']);
    expect(root.events.map((e) => e.name)).toContain('gen_ai.guardrail.security.finding');
    expect(root.events.find((e) => e.attributes['agentguard.finding.type'] === 'EMAIL_ADDRESS')?.attributes['agentguard.finding.path']).toBe('input.body');

    const stages = h.collector.childrenOf(root);
    const names = stages.map((s) => s.name);
    expect(names).toEqual(expect.arrayContaining(['agentguard.auth', 'agentguard.session.read', 'agentguard.policy', 'agentguard.session', 'agentguard.audit']));
    // Children run inside the decision: none starts before it or ends after it.
    for (const stage of stages) {
      expect(stage.startNs >= root.startNs && stage.endNs <= root.endNs, stage.name).toBe(true);
      expect(stage.traceId).toBe(root.traceId);
    }
    // The guardrails the policy ran are spans of their own under the policy stage.
    const policy = stages.find((s) => s.name === 'agentguard.policy')!;
    const runs = h.collector.childrenOf(policy);
    expect(runs.map((r) => r.name)).toEqual(expect.arrayContaining(['run_guardrail secrets', 'run_guardrail pii']));
    const pii = runs.find((r) => r.name === 'run_guardrail pii')!;
    expect(pii.attributes).toMatchObject({ 'gen_ai.guardrail.component.name': 'pii', 'gen_ai.guardrail.verdict.type': 'warn', 'agentguard.async': false });
    expect(pii.attributes['agentguard.findings']).toBeGreaterThanOrEqual(1);
    expect(stages.find((s) => s.name === 'agentguard.auth')!.attributes['agentguard.token']).toBe('agent');
  });

  it('shows guardrails run in worker threads as a stage of their own, ahead of the policy', async () => {
    const h = await setup({ inlineMaxChars: 16 });
    const decision = await decide(h, { kind: 'tool', name: 'mail.send', input: { body: `a long enough text for the workers, to ${EMAIL}` } });
    expect(decision.effect).toBe('transform');
    await h.telemetry.flush();
    const root = rootOf(h.collector, decision.id);
    const stages = h.collector.childrenOf(root);
    const guardrails = stages.find((s) => s.name === 'agentguard.guardrails')!;
    expect(guardrails).toBeDefined();
    const workers = h.collector.childrenOf(guardrails).find((s) => s.name === 'agentguard.guardrail_workers')!;
    expect(workers.attributes['agentguard.texts']).toBeGreaterThanOrEqual(1);
    expect(guardrails.endNs <= stages.find((s) => s.name === 'agentguard.policy')!.startNs).toBe(true);
  });

  it('times the approval a require_approval decision creates, and the rate limit of a rule with a rate', async () => {
    const h = await setup();
    const pending = await decide(h, { kind: 'tool', name: 'payments.refund', input: { amount: 5 } });
    const first = await decide(h, { kind: 'tool', name: 'web.search', input: { q: 'a' } });
    const second = await decide(h, { kind: 'tool', name: 'web.search', input: { q: 'b' } });
    expect([pending.effect, first.effect, second.effect]).toEqual(['require_approval', 'allow', 'deny']);
    await h.telemetry.flush();
    const approval = rootOf(h.collector, pending.id);
    expect(approval.attributes['gen_ai.guardrail.verdict.type']).toBe('escalate');
    expect(typeof approval.attributes['agentguard.approval.id']).toBe('string');
    expect(h.collector.childrenOf(approval).map((s) => s.name)).toContain('agentguard.approval');
    const limited = rootOf(h.collector, second.id);
    const rate = h.collector.childrenOf(limited).find((s) => s.name === 'agentguard.rate_limit')!;
    expect(rate.attributes['agentguard.effect']).toBe('deny');
    expect(limited.attributes['gen_ai.guardrail.verdict.code']).toBeDefined();
  });

  it('parents the decision span on the W3C traceparent of the request', async () => {
    const h = await setup();
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const parentId = '00f067aa0ba902b7';
    const decision = await decide(h, { kind: 'tool', name: 'kb.search', input: { q: 'refunds' } }, { traceparent: `00-${traceId}-${parentId}-01`, tracestate: 'vendor=1' });
    const other = await decide(h, { kind: 'tool', name: 'kb.search', input: { q: 'refunds' } }, { traceparent: 'not-a-traceparent' });
    await h.telemetry.flush();
    const root = rootOf(h.collector, decision.id);
    expect(root.traceId).toBe(traceId);
    expect(root.parentSpanId).toBe(parentId);
    // A malformed header is ignored: that decision starts a trace of its own.
    const alone = rootOf(h.collector, other.id);
    expect(alone.traceId).not.toBe(traceId);
    expect(alone.parentSpanId).toBe('');
  });

  it('builds no span for a request whose caller did not sample its trace (traceparent flags 00)', async () => {
    const h = await setup();
    const unsampled = await decide(h, { kind: 'tool', name: 'kb.search', input: { q: 'a' } }, { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00' });
    const sampled = await decide(h, { kind: 'tool', name: 'kb.search', input: { q: 'b' } });
    await h.telemetry.flush();
    rootOf(h.collector, sampled.id);
    expect(h.collector.spans.some((s) => s.attributes['agentguard.decision.id'] === unsampled.id)).toBe(false);
    expect(h.collector.spans.some((s) => s.traceId === '4bf92f3577b34da6a3ce929d0e0e4736')).toBe(false);
  });

  it('puts no input, matched text or reason message in any span by default', async () => {
    const h = await setup({ headers: { 'x-collector-key': 'collector-secret-value' } });
    const denied = await decide(h, { kind: 'tool', name: 'http.post', input: { body: `use token ${TOKEN} please`, to: EMAIL } });
    expect(denied.effect).toBe('deny');
    const mail = await decide(h, { kind: 'tool', name: 'mail.send', input: { body: `ping ${EMAIL}` } });
    await h.telemetry.flush();
    const root = rootOf(h.collector, denied.id);
    expect(root.attributes['gen_ai.guardrail.verdict.type']).toBe('deny');
    expect(root.attributes['gen_ai.guardrail.security.policy.rule.id']).toBe('no-secrets');
    rootOf(h.collector, mail.id);
    const everything = h.collector.bodies.join('\n');
    for (const value of [TOKEN, EMAIL, 'Secrets may not leave', 'ping ', 'collector-secret-value']) expect(everything).not.toContain(value);
    expect(everything).not.toContain('content.input.value');
    // The header reached the collector (and only the collector).
    expect(h.collector.requests.some((r) => r.headers['x-collector-key'] === 'collector-secret-value')).toBe(true);
  });

  it('adds the input (secrets masked), the transformed input and reason messages only when payloads are asked for', async () => {
    const h = await setup({ payloads: true });
    const denied = await decide(h, { kind: 'tool', name: 'http.post', input: { body: `use token ${TOKEN}`, note: 'hello there' } });
    const mail = await decide(h, { kind: 'tool', name: 'mail.send', input: { body: `ping ${EMAIL}` } });
    await h.telemetry.flush();
    const root = rootOf(h.collector, denied.id);
    expect(root.attributes['gen_ai.guardrail.verdict.reason']).toContain('Secrets may not leave');
    const input = String(root.attributes['gen_ai.guardrail.security.content.input.value']);
    expect(input).toContain('hello there');
    expect(input).not.toContain(TOKEN);
    const transformed = rootOf(h.collector, mail.id);
    expect(String(transformed.attributes['gen_ai.guardrail.security.content.input.value'])).toContain(EMAIL);
    expect(String(transformed.attributes['gen_ai.guardrail.security.content.output.value'])).not.toContain(EMAIL);
  });

  it('traces an outcome with its token usage, under the caller\'s trace', async () => {
    const h = await setup();
    const decision = await decide(h, { kind: 'llm', name: 'openai.gpt-4o-mini', input: { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] } });
    expect(decision.effect).toBe('allow');
    const traceId = '0af7651916cd43dd8448eb211c80319c';
    const res = await h.app.inject({
      method: 'POST',
      url: `/v1/decisions/${decision.id}/outcome`,
      headers: { ...BOT, traceparent: `00-${traceId}-b7ad6b7169203331-01` },
      payload: { status: 'ok', durationMs: 120, usage: { inputTokens: 11, outputTokens: 7, cacheReadInputTokens: 4 } },
    });
    expect(res.statusCode, res.body).toBe(204);
    await h.telemetry.flush();
    const call = rootOf(h.collector, decision.id);
    expect(call.attributes).toMatchObject({ 'gen_ai.provider.name': 'openai', 'gen_ai.request.model': 'gpt-4o-mini', 'gen_ai.guardrail.target.subtype': 'llm' });
    expect(h.collector.childrenOf(call).map((s) => s.name)).toContain('agentguard.budget.reserve');
    const outcome = h.collector.spans.find((s) => s.name === 'agentguard.outcome')!;
    expect(outcome.traceId).toBe(traceId);
    expect(outcome.attributes).toMatchObject({
      'agentguard.decision.id': decision.id,
      'agentguard.outcome.status': 'ok',
      'gen_ai.usage.input_tokens': 15,
      'gen_ai.usage.output_tokens': 7,
      'gen_ai.usage.cache_read.input_tokens': 4,
    });
    expect(h.collector.childrenOf(outcome).map((s) => s.name)).toEqual(expect.arrayContaining(['agentguard.audit']));
  });

  it('decides exactly as before when the collector fails or is gone, and the sidecar still closes', async () => {
    const h = await setup({ failing: true });
    const first = await decide(h, { kind: 'tool', name: 'kb.search', input: { q: 'a' } });
    await h.telemetry.flush();
    expect(h.collector.requests.length).toBeGreaterThan(0);
    expect(h.collector.spans).toEqual([]);
    await h.collector.stop();
    const second = await decide(h, { kind: 'tool', name: 'http.post', input: { body: `use token ${TOKEN}` } });
    expect([first.effect, second.effect]).toEqual(['allow', 'deny']);
    // Both decisions are in the audit trail as usual.
    const res = await h.app.inject({ method: 'GET', url: '/v1/audit?limit=10', headers: BOT });
    expect(res.statusCode, res.body).toBe(200);
    const ids = (res.json() as { records: Array<{ decisionId: string }> }).records.map((r) => r.decisionId);
    expect(ids).toEqual(expect.arrayContaining([first.id, second.id]));
  });
});
