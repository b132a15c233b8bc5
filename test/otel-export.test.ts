import { afterEach, describe, expect, it } from 'vitest';
import { DecisionTrace } from '../src/core/telemetry/decision-trace.js';
import { startOtlpTelemetry, tracesUrl, type OtlpTelemetry } from '../src/telemetry/otlp.js';
import { startTelemetry } from '../src/telemetry/start.js';
import { FakeCollector } from './helpers/otlp-collector.js';

const open: Array<{ telemetry?: OtlpTelemetry; collector?: FakeCollector }> = [];
afterEach(async () => {
  for (const { telemetry, collector } of open.splice(0)) {
    await telemetry?.shutdown();
    await collector?.stop();
  }
});

describe('OTLP export', () => {
  it('reports a failed export with the endpoint and the count of lost spans, never a header value, and keeps going', async () => {
    const collector = await new FakeCollector().start();
    collector.failing = true;
    collector.failStatus = 400;
    const messages: string[] = [];
    const telemetry = await startOtlpTelemetry({
      config: { otlp: { endpoint: `${collector.url}/?key=query-secret`, headers: { authorization: 'Bearer header-secret' } } },
      defaultServiceName: 'x',
      kind: 'server',
      onExportError: (message) => messages.push(message),
      env: {},
    });
    open.push({ telemetry, collector });
    telemetry.tracer.record({ operation: 'decide', action: { kind: 'tool', name: 'kb.search' }, trace: new DecisionTrace() });
    await telemetry.flush();
    expect(collector.requests.length).toBeGreaterThan(0);
    expect(collector.requests[0]!.headers.authorization).toBe('Bearer header-secret');
    expect(messages).toHaveLength(1);
    expect(messages[0]).toContain(`could not export spans to ${collector.url}/v1/traces`);
    expect(messages[0]).toContain('1 span(s) lost');
    expect(messages[0]).not.toMatch(/header-secret|query-secret/);
    // A collector that recovers gets what comes next.
    collector.failing = false;
    telemetry.tracer.record({ operation: 'decide', action: { kind: 'tool', name: 'kb.search' }, trace: new DecisionTrace() });
    await telemetry.flush();
    expect(collector.spans.map((s) => s.name)).toEqual(['run_guardrail agentguard']);
  });

  it('is turned on by the config, an endpoint or AGENTGUARD_OTLP_ENDPOINT, never by the OTEL_* variables alone', async () => {
    const options = { defaultServiceName: 'x', kind: 'server' as const };
    await expect(startTelemetry(undefined, { ...options, env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_SERVICE_NAME: 's' } })).resolves.toBeUndefined();
    await expect(startTelemetry({ payloads: true }, { ...options, env: {} })).resolves.toBeUndefined();
    const fromEnv = await startTelemetry(undefined, { ...options, env: { AGENTGUARD_OTLP_ENDPOINT: 'http://127.0.0.1:9/base' } });
    open.push({ telemetry: fromEnv });
    expect(fromEnv?.endpoint).toBe('http://127.0.0.1:9/base/v1/traces');
    const fromConfig = await startTelemetry({ otlp: {} }, { ...options, env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9', OTEL_SERVICE_NAME: 'from-env' } });
    open.push({ telemetry: fromConfig });
    expect([fromConfig?.endpoint, fromConfig?.serviceName]).toEqual(['http://127.0.0.1:9/v1/traces', 'from-env']);
    await expect(startTelemetry(undefined, { ...options, env: { AGENTGUARD_OTLP_ENDPOINT: 'collector:4318' } })).rejects.toThrow(/AGENTGUARD_OTLP_ENDPOINT must be an http/);
  });

  it('sends the headers of OTEL_EXPORTER_OTLP_HEADERS together with the configured ones', async () => {
    const collector = await new FakeCollector().start();
    const saved = process.env.OTEL_EXPORTER_OTLP_HEADERS;
    process.env.OTEL_EXPORTER_OTLP_HEADERS = 'x-from-env=env-value,authorization=Bearer env-token';
    try {
      const telemetry = await startOtlpTelemetry({ config: { otlp: { endpoint: collector.url, headers: { 'x-from-config': 'config-value' } } }, defaultServiceName: 'x', kind: 'server', env: {} });
      open.push({ telemetry, collector });
      telemetry.tracer.record({ operation: 'decide', action: { kind: 'tool', name: 'kb.search' }, trace: new DecisionTrace() });
      await telemetry.flush();
    } finally {
      if (saved === undefined) delete process.env.OTEL_EXPORTER_OTLP_HEADERS;
      else process.env.OTEL_EXPORTER_OTLP_HEADERS = saved;
    }
    expect(collector.requests[0]!.headers).toMatchObject({ 'x-from-env': 'env-value', authorization: 'Bearer env-token', 'x-from-config': 'config-value' });
  });

  it('resolves the traces URL as the OpenTelemetry variables define it, a configured endpoint first', () => {
    const env = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://all:4318/', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://traces:4318/custom' };
    expect(tracesUrl('http://cfg:4318', env)).toBe('http://cfg:4318/v1/traces');
    expect(tracesUrl('http://cfg:4318/base/', env)).toBe('http://cfg:4318/base/v1/traces');
    expect(tracesUrl('http://cfg:4318/v1/traces', env)).toBe('http://cfg:4318/v1/traces');
    expect(tracesUrl(undefined, env)).toBe('http://traces:4318/custom');
    expect(tracesUrl(undefined, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://all:4318/' })).toBe('http://all:4318/v1/traces');
    expect(tracesUrl(undefined, {})).toBe('http://localhost:4318/v1/traces');
  });
});
