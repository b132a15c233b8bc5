/** Scoring shared by `guardrails eval`, the accuracy tests and the bench. Pure functions. */

export interface Counts {
  tp: number;
  fp: number;
  fn: number;
}

export interface PrfScores {
  precision: number;
  recall: number;
  f1: number;
  support: number;
}

/** Precision, recall and F1; 0 (not NaN) when a denominator is 0. `support` = tp + fn. */
export function prf({ tp, fp, fn }: Counts): PrfScores {
  const precision = tp + fp === 0 ? 0 : tp / (tp + fp);
  const recall = tp + fn === 0 ? 0 : tp / (tp + fn);
  const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
  return { precision, recall, f1, support: tp + fn };
}

export function addCounts(a: Counts, b: Counts): Counts {
  return { tp: a.tp + b.tp, fp: a.fp + b.fp, fn: a.fn + b.fn };
}

/** ROC AUC by the rank-sum (Mann–Whitney) formula, ties counted half. NaN without both classes. */
export function rocAuc(scores: readonly number[], positive: readonly boolean[]): number {
  const order = scores.map((score, index) => ({ score, positive: positive[index] })).sort((a, b) => a.score - b.score);
  let positives = 0;
  let rankSum = 0;
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j < order.length && order[j].score === order[i].score) j++;
    const averageRank = (i + 1 + j) / 2;
    for (let k = i; k < j; k++) if (order[k].positive) { positives++; rankSum += averageRank; }
    i = j;
  }
  const negatives = order.length - positives;
  if (positives === 0 || negatives === 0) return Number.NaN;
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

/**
 * True-positive rate at the highest-recall threshold whose false-positive rate is at most
 * `maxFpr` (a row is predicted positive when score >= threshold). Returns the threshold too.
 */
export function tprAtFpr(scores: readonly number[], positive: readonly boolean[], maxFpr = 0.01): { tpr: number; threshold: number; fpr: number } {
  const totalPos = positive.filter(Boolean).length;
  const totalNeg = positive.length - totalPos;
  const thresholds = [...new Set(scores)].sort((a, b) => b - a);
  const sorted = scores.map((score, index) => ({ score, positive: positive[index] })).sort((a, b) => b.score - a.score);
  let best = { tpr: 0, threshold: Number.POSITIVE_INFINITY, fpr: 0 };
  let tp = 0;
  let fp = 0;
  let cursor = 0;
  for (const threshold of thresholds) {
    while (cursor < sorted.length && sorted[cursor].score >= threshold) {
      if (sorted[cursor].positive) tp++;
      else fp++;
      cursor++;
    }
    const fpr = totalNeg === 0 ? 0 : fp / totalNeg;
    if (fpr > maxFpr) break;
    best = { tpr: totalPos === 0 ? 0 : tp / totalPos, threshold, fpr };
  }
  return best;
}

/** Nearest-rank percentile (p in [0, 100]) of unsorted samples; NaN when empty. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1];
}

export interface Span {
  start: number;
  end: number;
  type: string;
}

/**
 * Span matching as ../shared/data/README.md defines it, for one row and one type: a gold span
 * is found when a predicted span of the same type overlaps it by at least one character; a
 * predicted span overlapping no gold span of its type is a false positive.
 */
export function spanCounts(gold: readonly Span[], predicted: readonly Span[], type: string): Counts {
  const g = gold.filter((s) => s.type === type);
  const p = predicted.filter((s) => s.type === type);
  const overlaps = (a: Span, b: Span) => a.start < b.end && b.start < a.end;
  const tp = g.filter((gs) => p.some((ps) => overlaps(gs, ps))).length;
  const fp = p.filter((ps) => !g.some((gs) => overlaps(gs, ps))).length;
  return { tp, fp, fn: g.length - tp };
}
