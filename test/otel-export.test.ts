import { afterEach, describe, expect, it } from 'vitest';
import { DecisionTrace } from '../src/core/telemetry/decision-trace.js';
import { startOtlpTelemetry, tracesUrl, type OtlpTelemetry } from '../src/telemetry/otlp.js';
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
