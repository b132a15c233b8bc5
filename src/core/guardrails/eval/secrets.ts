import type { Guardrail } from '../types.js';
import { addCounts, percentile, prf, spanCounts, type Counts, type Span } from './metrics.js';
import type { EvalReport } from './report.js';

/** A labelled row, same schema as the shared pii.dev.jsonl and test/fixtures/secrets/secrets.jsonl. */
export interface SpanRow {
  text: string;
  spans: Span[];
  labeled_types: string[];
  source?: string;
}

export interface SecretsEvalOptions {
  /** Rows run before timing starts (default min(50, rows)). */
  warmup?: number;
}

/**
 * Scores a span guardrail on labelled rows with the PII rules of ../shared/data/README.md: per type T, only rows
 * whose `labeled_types` contains T count; a gold span is found when a predicted span of type T overlaps it; a
 * predicted span overlapping no gold span of T is a false positive. Micro-average over every type any row labels.
 * Latency is per row, after a warm-up; `extra.p50MsPerKb` normalises it by row length.
 */
export function evaluateSecrets(rows: readonly SpanRow[], guardrail: Guardrail, options: SecretsEvalOptions = {}): EvalReport {
  const warmup = Math.min(options.warmup ?? 50, rows.length);
  for (let i = 0; i < warmup; i++) guardrail.detect(rows[i].text);

  const perTypeCounts = new Map<string, Counts>();
  const latencies: number[] = [];
  const perKb: number[] = [];
  let findings = 0;
  let negativeRowsWithFindings = 0;
  let negativeRows = 0;
  for (const row of rows) {
    const t0 = performance.now();
    const found = guardrail.detect(row.text);
    const elapsed = performance.now() - t0;
    if (!Array.isArray(found)) throw new TypeError(`evaluateSecrets needs a synchronous guardrail; ${guardrail.name} returned a promise`);
    latencies.push(elapsed);
    perKb.push(elapsed / Math.max(row.text.length / 1024, 1e-9));
    findings += found.length;
    const predicted: Span[] = found.map(({ start, end, type }) => ({ start, end, type }));
    if (row.spans.length === 0) {
      negativeRows++;
      if (predicted.some((p) => row.labeled_types.includes(p.type))) negativeRowsWithFindings++;
    }
    for (const type of row.labeled_types) {
      perTypeCounts.set(type, addCounts(perTypeCounts.get(type) ?? { tp: 0, fp: 0, fn: 0 }, spanCounts(row.spans, predicted, type)));
    }
  }

  const perType: EvalReport['perType'] = {};
  let micro: Counts = { tp: 0, fp: 0, fn: 0 };
  for (const [type, counts] of [...perTypeCounts].sort(([a], [b]) => a.localeCompare(b))) {
    if (counts.tp + counts.fp + counts.fn === 0) continue;
    perType[type] = prf(counts);
    micro = addCounts(micro, counts);
  }
  const total = prf(micro);
  return {
    guardrail: guardrail.name,
    rows: rows.length,
    precision: total.precision,
    recall: total.recall,
    f1: total.f1,
    perType,
    latencyMs: { p50: percentile(latencies, 50), p99: percentile(latencies, 99) },
    extra: {
      tp: micro.tp,
      fp: micro.fp,
      fn: micro.fn,
      findings,
      negativeRows,
      negativeRowsWithFindings,
      p50MsPerKb: percentile(perKb, 50),
    },
  };
}
