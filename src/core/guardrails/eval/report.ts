import type { PrfScores } from './metrics.js';
import type { Slices } from './slices.js';

/** What `guardrails eval --json` prints. Figures are fractions in [0, 1]; latency in milliseconds. */
export interface EvalReport {
  guardrail: string;
  /** Rows scored (rows skipped for lack of labels are not counted). */
  rows: number;
  precision: number;
  recall: number;
  f1: number;
  /** Binary classifiers with a score: TPR at the highest threshold whose FPR ≤ 1 %. */
  tprAt1pctFpr?: number;
  /** Binary classifiers with a score: ROC AUC. */
  auc?: number;
  /** Per type (PII, secrets) or per label (moderation, injection sources). */
  perType: Record<string, PrfScores>;
  latencyMs: { p50: number; p99: number };
  /** Anything else worth printing (false-positive rate on hard negatives, threshold used, ...). */
  extra?: Record<string, number | string>;
  /** Figures per data source and per language (rows' `lang` field, else detected with franc-min). */
  slices?: Slices;
}
