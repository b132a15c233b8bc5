import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DecisionTrace, type StageRecord } from '../src/core/telemetry/decision-trace.js';
import { MAX_PENDING_DECISIONS, spanTracer } from '../src/telemetry/span-tracer.js';

function harness() {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  return { exporter, tracer: spanTracer(provider.getTracer('t')) };
}

const action = { kind: 'tool', name: 'kb.search', input: { q: 'private words' } };

describe('spanTracer', () => {
  it('keeps at most MAX_PENDING_DECISIONS decisions waiting for their spans and counts the ones it drops', () => {
    const { exporter, tracer } = harness();
    for (let i = 0; i < MAX_PENDING_DECISIONS + 10; i++) tracer.record({ operation: 'preview', action, trace: new DecisionTrace() });
    expect(tracer.dropped).toBe(10);
    tracer.drain();
    expect(exporter.getFinishedSpans()).toHaveLength(MAX_PENDING_DECISIONS);
  });

  it('builds one span per stage and guardrail run, each inside its parent, and never the action input', () => {
    const stage = fc.record({ name: fc.constantFrom('policy', 'audit', 'guardrails', 'approval'), offset: fc.nat(1000), length: fc.nat(1000), runs: fc.array(fc.record({ offset: fc.nat(500), length: fc.nat(500) }), { maxLength: 3 }) });
    fc.assert(
      fc.property(fc.array(stage, { maxLength: 6 }), (stages) => {
        const { exporter, tracer } = harness();
        const trace = new DecisionTrace({ startedAt: 1_700_000_000_000 });
        let cursor = trace.start;
        const records: StageRecord[] = stages.map((s) => {
          const start = cursor + s.offset / 1000;
          const end = start + s.length / 1000 + s.runs.reduce((t, r) => t + (r.offset + r.length) / 1000, 0);
          let at = start;
          const children = s.runs.map((r) => {
            const run: StageRecord = { name: 'guardrail', start: at + r.offset / 1000, end: at + (r.offset + r.length) / 1000, attributes: { guardrail: 'pii', findings: 0 } };
            at = run.end;
            return run;
          });
          cursor = end;
          return { name: s.name, start, end, ...(children.length ? { children } : {}) };
        });
        trace.stages.push(...records);
        trace.end = cursor + 0.001;
        tracer.record({ operation: 'decide', action, trace });
        tracer.drain();
        const spans = exporter.getFinishedSpans();
        const expected = 1 + records.length + records.reduce((n, r) => n + (r.children?.length ?? 0), 0);
        expect(spans).toHaveLength(expected);
        const byId = new Map(spans.map((s) => [s.spanContext().spanId, s]));
        const ns = (t: [number, number]) => BigInt(t[0]) * 1_000_000_000n + BigInt(t[1]);
        for (const span of spans) {
          const parent = span.parentSpanContext ? byId.get(span.parentSpanContext.spanId) : undefined;
          if (!parent) continue;
          expect(ns(span.startTime) >= ns(parent.startTime) && ns(span.endTime) <= ns(parent.endTime)).toBe(true);
        }
        expect(JSON.stringify(spans.map((s) => s.attributes))).not.toContain('private words');
      }),
      // The example: a stage whose runs' durations, summed in floating-point milliseconds, end past the stage by a rounding step.
      { numRuns: 60, examples: [[[{ name: 'policy', offset: 0, length: 0, runs: [{ offset: 0, length: 16 }, { offset: 0, length: 485 }] }]]] },
    );
  });
});
