import type { Finding, Guardrail } from '../types.js';
import { addCounts, percentile, prf, spanCounts, type Counts, type PrfScores, type Span } from './metrics.js';
import type { EvalReport } from './report.js';

/** One row of pii.dev.jsonl. */
export interface PiiRow {
  text: string;
  spans: Span[];
  labeled_types: string[];
  source?: string;
}

/** One row of pii_test_values.dev.jsonl: a single identifier that should or should not be found. */
export interface PiiTestValueRow {
  text: string;
  spans: Span[];
  type: string;
  expected_detect: boolean;
  source?: string;
}

/** The headline micro-average, as ../shared/data/README.md defines it. */
export const STRUCTURED_PII_TYPES = ['EMAIL_ADDRESS', 'PHONE_NUMBER', 'CREDIT_CARD', 'US_SSN', 'IBAN_CODE', 'IP_ADDRESS', 'URL'] as const;

const WARM_UP_ROWS = 50;

function detectSync(guardrail: Guardrail, text: string, options?: Parameters<Guardrail['detect']>[1]): Finding[] {
  const result = guardrail.detect(text, options);
  if (result instanceof Promise) throw new TypeError(`evaluatePii needs a local (synchronous) guardrail; ${guardrail.name} returned a promise`);
  return result;
}

/**
 * Scores span detection per type T over the rows whose `labeled_types` include T: a gold span is
 * found when a predicted span of T overlaps it by one character or more; a predicted span of T
 * overlapping no gold span of T is a false positive. Latency is per row after a warm-up.
 */
export function evaluatePii(rows: readonly PiiRow[], guardrail: Guardrail): EvalReport {
  const reported = new Set(guardrail.types);
  const types = [...new Set(rows.flatMap((r) => r.labeled_types))].filter((t) => reported.has(t)).sort();
  const counts = new Map<string, Counts>(types.map((t) => [t, { tp: 0, fp: 0, fn: 0 }]));
  for (const row of rows.slice(0, WARM_UP_ROWS)) detectSync(guardrail, row.text);
  const latencies: number[] = [];
  let scoredRows = 0;
  for (const row of rows) {
    const labeled = row.labeled_types.filter((t) => counts.has(t));
    if (labeled.length === 0) continue;
    scoredRows++;
    const t0 = performance.now();
    const findings = detectSync(guardrail, row.text);
    latencies.push(performance.now() - t0);
    for (const type of labeled) counts.set(type, addCounts(counts.get(type)!, spanCounts(row.spans, findings, type)));
  }
  const perType: Record<string, PrfScores> = {};
  for (const [type, c] of counts) perType[type] = prf(c);
  let micro: Counts = { tp: 0, fp: 0, fn: 0 };
  for (const type of STRUCTURED_PII_TYPES) if (counts.has(type)) micro = addCounts(micro, counts.get(type)!);
  const headline = prf(micro);
  const totalChars = rows.reduce((n, r) => n + r.text.length, 0);
  const totalMs = latencies.reduce((a, b) => a + b, 0);
  return {
    guardrail: guardrail.name,
    rows: scoredRows,
    precision: headline.precision,
    recall: headline.recall,
    f1: headline.f1,
    perType,
    latencyMs: { p50: percentile(latencies, 50), p99: percentile(latencies, 99) },
    extra: {
      headline: `micro over ${STRUCTURED_PII_TYPES.join(', ')}`,
      msPerKb: totalChars === 0 ? 0 : (totalMs / totalChars) * 1024,
    },
  };
}

export interface TestValueAccuracy {
  total: number;
  correct: number;
  accuracy: number;
  /** Texts of the rows it got wrong (test identifiers, not personal data). */
  wrong: string[];
}

/**
 * Accuracy per type on valid/invalid identifiers. Each row is checked with only its own type
 * enabled and no score threshold, as a recognizer unit test would: a row expecting detection
 * passes when a finding of its type overlaps each expected span (or exists, when none is given);
 * a row expecting none passes when nothing of its type is found. Types the guardrail does not
 * report are listed in `unsupported`.
 */
export function evaluatePiiTestValues(rows: readonly PiiTestValueRow[], guardrail: Guardrail): { perType: Record<string, TestValueAccuracy>; unsupported: string[] } {
  const reported = new Set(guardrail.types);
  const perType: Record<string, TestValueAccuracy> = {};
  const unsupported = new Set<string>();
  for (const row of rows) {
    if (!reported.has(row.type)) {
      unsupported.add(row.type);
      continue;
    }
    const found = detectSync(guardrail, row.text, { types: [row.type], minScore: 0 }).filter((f) => f.type === row.type);
    const ok = row.expected_detect
      ? found.length > 0 && row.spans.filter((s) => s.type === row.type).every((s) => found.some((f) => f.start < s.end && s.start < f.end))
      : found.length === 0;
    const acc = (perType[row.type] ??= { total: 0, correct: 0, accuracy: 0, wrong: [] });
    acc.total++;
    if (ok) acc.correct++;
    else acc.wrong.push(row.text);
    acc.accuracy = acc.correct / acc.total;
  }
  return { perType, unsupported: [...unsupported].sort() };
}
