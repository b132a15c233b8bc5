import { prf } from './metrics.js';

/** Figures of one slice of an evaluation (one source, one language): counts at the threshold and their rates. */
export interface SliceScores {
  rows: number;
  positives: number;
  precision: number;
  recall: number;
  f1: number;
  /** False-positive rate on the slice's negatives (absent when it has none). */
  fpr?: number;
}

/** One scored row as the slices see it: its truth, the guardrail's verdict, and the keys it is sliced by. */
export interface SlicedOutcome {
  positive: boolean;
  predicted: boolean;
  source: string;
  language: string;
}

/** Per-source and per-language figures; any guardrail that reduces a row to an outcome can report them. */
export interface Slices {
  perSource: Record<string, SliceScores>;
  perLanguage: Record<string, SliceScores>;
}

export function sliceScores(outcomes: readonly SlicedOutcome[]): SliceScores {
  const c = { tp: 0, fp: 0, fn: 0, tn: 0 };
  for (const o of outcomes) {
    if (o.predicted && o.positive) c.tp++;
    else if (o.predicted) c.fp++;
    else if (o.positive) c.fn++;
    else c.tn++;
  }
  const { precision, recall, f1 } = prf(c);
  return { rows: outcomes.length, positives: c.tp + c.fn, precision, recall, f1, ...(c.fp + c.tn > 0 ? { fpr: c.fp / (c.fp + c.tn) } : {}) };
}

function by(outcomes: readonly SlicedOutcome[], key: (o: SlicedOutcome) => string): Record<string, SliceScores> {
  const groups = new Map<string, SlicedOutcome[]>();
  for (const o of outcomes) {
    const k = key(o);
    const members = groups.get(k);
    if (members) members.push(o);
    else groups.set(k, [o]);
  }
  return Object.fromEntries([...groups].sort(([a], [b]) => a.localeCompare(b)).map(([k, members]) => [k, sliceScores(members)]));
}

export function slices(outcomes: readonly SlicedOutcome[]): Slices {
  return { perSource: by(outcomes, (o) => o.source), perLanguage: by(outcomes, (o) => o.language) };
}
