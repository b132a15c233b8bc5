import { AgentGuardError } from '../../errors.js';
import { defaultInjectionThreshold, injectionScore } from '../injection/index.js';
import { moderationGuardrail } from '../moderation/index.js';
import { piiGuardrail } from '../pii/index.js';
import { secretsGuardrail } from '../secrets/index.js';
import { evaluateBinary, injectionRows, type BinaryRow, type InjectionJsonlRow } from './binary.js';
import { addCounts, percentile, prf, type Counts } from './metrics.js';
import { evaluateModeration, type ModerationRow } from './moderation.js';
import { evaluatePii, evaluatePiiTestValues, type PiiRow, type PiiTestValueRow } from './pii.js';
import type { EvalReport } from './report.js';
import { evaluateSecrets, type SpanRow } from './secrets.js';
import { isPlainObject } from '../../plain-object.js';

export const EVAL_GUARDRAILS = ['pii', 'injection', 'moderation', 'secrets'] as const;
export type EvalGuardrail = (typeof EVAL_GUARDRAILS)[number];

/** A row of a JSONL dataset with its 1-based line number, for messages. */
export interface NumberedRow {
  line: number;
  value: unknown;
}


const SHAPES: Record<string, { fields: Record<string, (v: unknown) => boolean>; describe: string }> = {
  spans: {
    fields: { text: (v) => typeof v === 'string', spans: Array.isArray, labeled_types: Array.isArray },
    describe: '{ "text", "spans": [{ "start", "end", "type" }], "labeled_types": [...] }',
  },
  testValues: {
    fields: { text: (v) => typeof v === 'string', spans: Array.isArray, type: (v) => typeof v === 'string', expected_detect: (v) => typeof v === 'boolean' },
    describe: '{ "text", "spans", "type", "expected_detect": true | false }',
  },
  injection: {
    fields: {
      text: (v) => typeof v === 'string',
      label: (v) => v === 'injection' || v === 'jailbreak' || v === 'benign',
      source: (v) => v === undefined || typeof v === 'string',
      lang: (v) => v === undefined || typeof v === 'string',
      context: (v) => v === undefined || v === 'message' || v === 'data',
    },
    describe: '{ "text", "label": "injection" | "jailbreak" | "benign", "source"?, "lang"?, "context"?: "message" | "data" }',
  },
  moderation: {
    fields: { text: (v) => typeof v === 'string', labels: isPlainObject, source: (v) => v === undefined || typeof v === 'string' },
    describe: '{ "text", "labels": { "hate": 0 | 1, ... }, "source"? }',
  },
};

/** Checks every row has the shape a guardrail's dataset needs; the first bad row is an error naming its line. */
function checkRows<T>(rows: readonly NumberedRow[], shape: keyof typeof SHAPES, file: string): T[] {
  const { fields, describe } = SHAPES[shape];
  return rows.map(({ line, value }) => {
    const bad = isPlainObject(value) ? Object.entries(fields).find(([key, ok]) => !ok(value[key]))?.[0] : '(not an object)';
    if (bad !== undefined) {
      throw new AgentGuardError('DATASET_INVALID', `${file}:${line}: ${bad === '(not an object)' ? 'the row is not a JSON object' : `"${bad}" is missing or has the wrong type`}; each row must be ${describe}`, {
        actions: ['Fix the row, or pick the --guardrail that matches this dataset.'],
      });
    }
    return value as T;
  });
}

/** Valid/invalid identifiers scored as a detector: expected and found → tp, expected and missed → fn, unexpected and found → fp. */
function evaluateTestValues(rows: readonly PiiTestValueRow[]): EvalReport {
  const guardrail = piiGuardrail.create({});
  const perTypeCounts = new Map<string, Counts>();
  const latencies: number[] = [];
  let scored = 0;
  for (const row of rows) {
    const started = performance.now();
    const { perType } = evaluatePiiTestValues([row], guardrail);
    latencies.push(performance.now() - started);
    const result = perType[row.type];
    if (!result) continue;
    scored++;
    const counts = perTypeCounts.get(row.type) ?? { tp: 0, fp: 0, fn: 0 };
    const correct = result.correct === 1;
    if (row.expected_detect && correct) counts.tp++;
    else if (row.expected_detect) counts.fn++;
    else if (!correct) counts.fp++;
    perTypeCounts.set(row.type, counts);
  }
  const overall = prf([...perTypeCounts.values()].reduce(addCounts, { tp: 0, fp: 0, fn: 0 }));
  return {
    guardrail: 'pii',
    rows: scored,
    precision: overall.precision,
    recall: overall.recall,
    f1: overall.f1,
    perType: Object.fromEntries([...perTypeCounts].sort(([a], [b]) => a.localeCompare(b)).map(([type, c]) => [type, prf(c)])),
    latencyMs: { p50: percentile(latencies, 50), p99: percentile(latencies, 99) },
    extra: { dataset: 'valid and invalid identifiers (expected_detect)', unsupportedRows: rows.length - scored },
  };
}

/**
 * Measures a built-in guardrail on a labelled dataset in the JSONL formats of the shared evaluation data (pii and
 * secrets: spans; pii also valid/invalid identifiers; injection: labels; moderation: per-category labels).
 */
export function runEval(guardrail: EvalGuardrail, rows: readonly NumberedRow[], file: string, options: { threshold?: number } = {}): EvalReport {
  if (rows.length === 0) throw new AgentGuardError('DATASET_EMPTY', `${file} has no rows`, { actions: ['Pass a JSONL file with one labelled example per line.'] });
  switch (guardrail) {
    case 'pii': {
      const first = rows[0].value;
      if (isPlainObject(first) && 'expected_detect' in first) return evaluateTestValues(checkRows<PiiTestValueRow>(rows, 'testValues', file));
      return evaluatePii(checkRows<PiiRow>(rows, 'spans', file), piiGuardrail.create({}));
    }
    case 'secrets':
      return evaluateSecrets(checkRows<SpanRow>(rows, 'spans', file), secretsGuardrail.create({}));
    case 'injection': {
      const checked = checkRows<InjectionJsonlRow>(rows, 'injection', file).map((r) => ({ ...r, source: r.source ?? '' }));
      // A --threshold applies to every row; else messages and data each get the shipped threshold of their context.
      const threshold = options.threshold ?? ((row: BinaryRow) => defaultInjectionThreshold(row.context ?? 'message'));
      return evaluateBinary(injectionRows(checked), (text, row) => injectionScore(text, row.context ?? 'message'), threshold, 'injection');
    }
    case 'moderation':
      return evaluateModeration(checkRows<ModerationRow>(rows, 'moderation', file).map((r) => ({ ...r, source: r.source ?? '' })), moderationGuardrail.create({}));
  }
}
