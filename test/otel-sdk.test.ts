import { AsyncLocalStorage } from 'node:async_hooks';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { context, propagation, ROOT_CONTEXT, trace, type Context, type ContextManager } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { FastifyInstance } from 'fastify';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AuditRecorder } from '../src/core/audit/recorder.js';
import { Policy } from '../src/core/policy/policy.js';
import { AgentGuard } from '../src/sdk/index.js';
import { buildSidecarApp, type Authenticate } from '../src/sidecar/app.js';
import { startOtlpTelemetry, type OtlpTelemetry } from '../src/telemetry/otlp.js';
import { FakeCollector } from './helpers/otlp-collector.js';
import { makeTempDir } from './helpers/temp-dirs.js';

const POLICY = `version: 1
name: otel-sdk
default: deny
rules:
  - id: no-secrets
    effect: deny
    when: { kind: tool, detect: { guardrail: secrets } }
  - id: tools
    effect: allow
    when: { kind: tool }
`;
const TOKEN = 'ghp_R2d4kP9xLm3Qz7Vb1Nc8Ws5Ty6Ua0Hj2Ke4F';

/** Test double of an application's async context manager (what @opentelemetry/context-async-hooks provides). */
class AlsContextManager implements ContextManager {
  private readonly storage = new AsyncLocalStorage<Context>();
  active(): Context {
    return this.storage.getStore() ?? ROOT_CONTEXT;
  }
  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(ctx: Context, fn: F, thisArg?: ThisParameterType<F>, ...args: A): ReturnType<F> {
    return this.storage.run(ctx, () => fn.call(thisArg, ...args));
  }
  bind<T>(_ctx: Context, target: T): T {
    return target;
  }
  enable(): this {
    return this;
  }
  disable(): this {
    this.storage.disable();
    return this;
  }
}

const dirs = { policy: '', data: '' };
beforeAll(() => {
  const dir = makeTempDir('ag-otel-sdk-');
  dirs.policy = join(dir, 'policy.yaml');
  dirs.data = join(dir, '.agentguard');
  writeFileSync(dirs.policy, POLICY);
  // The application's own OpenTelemetry setup: an async context manager and the W3C propagator, registered globally.
  context.setGlobalContextManager(new AlsContextManager());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
});
afterAll(() => {
  context.disable();
  propagation.disable();
});

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

describe('AgentGuard (local mode) trace export', () => {
  it('sends its spans to the application\'s tracer provider, under the active span, decision and outcome', async () => {
    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    closers.push(() => provider.shutdown());
    const guard = new AgentGuard({ policy: dirs.policy, agentId: 'sdk-bot', dataDir: dirs.data, telemetry: { tracerProvider: provider } });
    closers.push(() => guard.close());
    const search = guard.protect('kb.search', async ({ q }: { q: string }) => `found ${q}`);
    const app = provider.getTracer('app');
    const parent = app.startSpan('handle request');
    const result = await context.with(trace.setSpan(context.active(), parent), () => search({ q: 'refunds' }));
    parent.end();
    expect(result).toBe('found refunds');
    await expect(guard.decide({ kind: 'tool', name: 'http.post', input: { body: TOKEN } })).resolves.toMatchObject({ effect: 'deny' });
    // Spans are built after the decisions were answered; flush() hands over what is waiting.
    await guard.flush();

    const spans = exporter.getFinishedSpans();
    const decision = spans.find((s) => s.name === 'run_guardrail agentguard' && s.attributes['gen_ai.tool.name'] === 'kb.search')!;
    expect(decision).toBeDefined();
    expect(decision.kind).toBe(0); // INTERNAL: the agent's own process
    expect(decision.spanContext().traceId).toBe(parent.spanContext().traceId);
    expect(decision.parentSpanContext?.spanId).toBe(parent.spanContext().spanId);
    expect(decision.attributes).toMatchObject({ 'gen_ai.agent.id': 'sdk-bot', 'agentguard.decision.effect': 'allow', 'gen_ai.guardrail.verdict.type': 'allow' });
    const outcome = spans.find((s) => s.name === 'agentguard.outcome')!;
    expect(outcome.attributes).toMatchObject({ 'agentguard.outcome.status': 'ok', 'agentguard.decision.id': decision.attributes['agentguard.decision.id'] });
    expect(outcome.spanContext().traceId).toBe(parent.spanContext().traceId);
    const denied = spans.find((s) => s.attributes['agentguard.decision.effect'] === 'deny')!;
    expect(denied.attributes['gen_ai.guardrail.security.policy.rule.id']).toBe('no-secrets');
    expect(JSON.stringify(spans.map((s) => [s.attributes, s.events]))).not.toContain(TOKEN);
  });

  it('exports over OTLP/HTTP with its own exporter when the option names an endpoint, and flushes on close', async () => {
    const collector = await new FakeCollector().start();
    closers.push(() => collector.stop());
    const guard = new AgentGuard({ policy: dirs.policy, agentId: 'sdk-bot', dataDir: dirs.data, telemetry: { otlp: { endpoint: collector.url, serviceName: 'my-agent' } } });
    const decision = await guard.decide({ kind: 'tool', name: 'kb.search', input: { q: 'x' } });
    await guard.close();
    const root = collector.spans.find((s) => s.attributes['agentguard.decision.id'] === decision.id)!;
    expect(root.resource['service.name']).toBe('my-agent');
    expect(collector.childrenOf(root).map((s) => s.name)).toEqual(expect.arrayContaining(['agentguard.policy', 'agentguard.audit']));
  });

  it('refuses a telemetry option it cannot use when the guard is made', () => {
    expect(() => new AgentGuard({ policy: dirs.policy, agentId: 'a', telemetry: { otlp: { endpoint: 'ftp://x' } } })).toThrow(/telemetry\.otlp\.endpoint must be an http/);
    expect(() => new AgentGuard({ policy: dirs.policy, agentId: 'a', telemetry: { tracerProvider: {} as never } })).toThrow(/TracerProvider/);
    expect(() => new AgentGuard({ policy: dirs.policy, agentId: 'a', telemetry: { otlp: { headers: { 'bad name': 'secret-value' } } } })).toThrow(/invalid header name/);
  });
});

describe('AgentGuard (sidecar mode) passes the application\'s trace to the sidecar', () => {
  let app: FastifyInstance;
  let recorder: AuditRecorder;
  let telemetry: OtlpTelemetry;
  let collector: FakeCollector;

  it('the sidecar\'s decision span joins the trace of the span active in the agent', async () => {
    collector = await new FakeCollector().start();
    closers.push(() => collector.stop());
    telemetry = await startOtlpTelemetry({ config: { otlp: { endpoint: collector.url } }, defaultServiceName: 'agentguard-sidecar', kind: 'server', env: {} });
    closers.push(() => telemetry.shutdown());
    const dataDir = join(makeTempDir('ag-otel-sidecar-'), '.agentguard');
    recorder = await AuditRecorder.open({ dataDir, checkpointIntervalMs: 0 });
    closers.push(() => recorder.close());
    const authenticate: Authenticate = async (header) =>
      header === 'Bearer bot-secret-1' ? { ok: true, token: { id: 'tok', scope: { kind: 'agent', agentId: 'bot' } } } : { ok: false, reason: 'unknown' };
    app = await buildSidecarApp({ policy: await Policy.fromFile(dirs.policy), recorder, dataDir, authenticate, tracer: telemetry.tracer });
    closers.push(() => app.close());
    await app.listen({ port: 0, host: '127.0.0.1' });
    const port = (app.server.address() as { port: number }).port;

    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(new InMemorySpanExporter())] });
    closers.push(() => provider.shutdown());
    // The application registered its provider: the SDK now sees a global OpenTelemetry setup.
    trace.setGlobalTracerProvider(provider);
    closers.push(async () => trace.disable());
    const guard = new AgentGuard({ sidecar: { url: `http://127.0.0.1:${port}`, token: 'bot-secret-1' } });
    closers.push(() => guard.close());
    const parent = provider.getTracer('app').startSpan('agent turn');
    const decision = await context.with(trace.setSpan(context.active(), parent), () => guard.decide({ kind: 'tool', name: 'kb.search', input: { q: 'x' } }));
    parent.end();
    expect(decision.effect).toBe('allow');
    await telemetry.flush();
    const root = collector.spans.find((s) => s.attributes['agentguard.decision.id'] === decision.id)!;
    expect(root.traceId).toBe(parent.spanContext().traceId);
    expect(root.parentSpanId).toBe(parent.spanContext().spanId);
  });
});
