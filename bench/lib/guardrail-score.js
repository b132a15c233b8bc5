/**
 * Scoring for the guardrails bench, one code path for ours and every peer so the figures are comparable. The rules
 * are ../shared/data/README.md's, applied with the project's own metric functions (dist/core/guardrails/eval/metrics.js):
 * spans per type over the rows whose `labeled_types` include the type (overlap of one character counts), one
 * prediction per row for classifiers. Latency is per call (awaited when the tool returns a promise), after a warm-up.
 */
import { addCounts, percentile, prf, rocAuc, spanCounts, tprAtFpr } from '../../dist/core/guardrails/eval/metrics.js';

const WARM_UP_ROWS = 50;
const zero = () => ({ tp: 0, fp: 0, fn: 0 });

/** Calls `fn(text)` and returns `[result, ms]`, awaiting only when the tool returned a promise. */
async function timed(fn, text) {
  const t0 = performance.now();
  let result = fn(text);
  if (result instanceof Promise) result = await result;
  return [result, performance.now() - t0];
}

function latency(ms, chars) {
  const perKb = ms.map((m, i) => m / Math.max(chars[i] / 1024, 1e-9));
  return { p50: percentile(ms, 50), p99: percentile(ms, 99), p50PerKb: percentile(perKb, 50), p99PerKb: percentile(perKb, 99) };
}

/**
 * Every `step`-th row (rows i with i % step === 0); `step` 1 is the whole set. Used to keep a slow peer near a time
 * budget, deterministically.
 */
export const everyKth = (rows, step) => (step <= 1 ? rows : rows.filter((_, i) => i % step === 0));

/**
 * Span scoring. `groupOf(row)` splits the counts (e.g. by data source); `types` limits which types are counted;
 * `goldType` renames gold types (e.g. every secret type to SECRET for type-agnostic scoring).
 * Returns `{ rows, counts: { [group]: { [type]: Counts } }, latency }`; turn counts into figures with `spanFigures`.
 */
export async function scoreSpans(rows, detect, { types, groupOf = () => 'all', goldType = (t) => t } = {}) {
  const wanted = types ? new Set(types) : undefined;
  for (const row of rows.slice(0, WARM_UP_ROWS)) await timed(detect, row.text);
  const counts = {};
  const ms = [];
  const chars = [];
  for (const row of rows) {
    const [found, elapsed] = await timed(detect, row.text);
    ms.push(elapsed);
    chars.push(row.text.length);
    const predicted = found.map(({ start, end, type }) => ({ start, end, type }));
    const gold = row.spans.map((s) => ({ start: s.start, end: s.end, type: goldType(s.type) }));
    const group = (counts[groupOf(row)] ??= {});
    for (const type of new Set(row.labeled_types.map(goldType))) {
      if (wanted && !wanted.has(type)) continue;
      group[type] = addCounts(group[type] ?? zero(), spanCounts(gold, predicted, type));
    }
  }
  return { rows: rows.length, counts, latency: latency(ms, chars) };
}

/** Precision/recall/F1 of `type` summed over `groups` (all groups when absent); null when no row labels it. */
export function spanFigures(result, types, groups = Object.keys(result.counts)) {
  let total = zero();
  let seen = false;
  for (const group of groups) {
    for (const type of [types].flat()) {
      const c = result.counts[group]?.[type];
      if (c === undefined) continue;
      seen = true;
      total = addCounts(total, c);
    }
  }
  return seen ? { ...prf(total), ...total } : null;
}

/**
 * Classifier scoring: `classify(text)` → `{ flagged, score }`, each row classified once. Returns figures for all rows
 * and for each named subset (`subsets: { name: (row) => boolean }`): P/R/F1 and false-positive rate from `flagged`;
 * ROC AUC and TPR at the highest threshold with FPR ≤ 1 % from `score` when the tool gives one; FPR on hard negatives.
 */
export async function scoreBinary(rows, classify, subsets = {}) {
  for (const row of rows.slice(0, WARM_UP_ROWS)) await timed(classify, row.text);
  const ms = [];
  const flagged = [];
  const scores = [];
  for (const row of rows) {
    const [verdict, elapsed] = await timed(classify, row.text);
    ms.push(elapsed);
    flagged.push(verdict.flagged);
    scores.push(verdict.score);
  }
  const figures = (indices) => {
    const c = { tp: 0, fp: 0, fn: 0, tn: 0 };
    let hardNegatives = 0;
    let hardFlagged = 0;
    for (const i of indices) {
      const row = rows[i];
      if (flagged[i] && row.positive) c.tp++;
      else if (flagged[i]) c.fp++;
      else if (row.positive) c.fn++;
      else c.tn++;
      if (row.hardNegative && !row.positive) {
        hardNegatives++;
        if (flagged[i]) hardFlagged++;
      }
    }
    const positive = indices.map((i) => rows[i].positive);
    const score = indices.map((i) => scores[i]);
    const usable = score.every((s) => typeof s === 'number' && Number.isFinite(s)) && positive.some(Boolean) && positive.some((p) => !p);
    return {
      rows: indices.length,
      ...prf(c),
      ...c,
      fpr: c.fp + c.tn === 0 ? 0 : c.fp / (c.fp + c.tn),
      auc: usable ? rocAuc(score, positive) : undefined,
      tprAt1pctFpr: usable ? tprAtFpr(score, positive, 0.01).tpr : undefined,
      hardNegativeFpr: hardNegatives === 0 ? undefined : hardFlagged / hardNegatives,
      hardNegatives,
      latency: latency(indices.map((i) => ms[i]), indices.map((i) => rows[i].text.length)),
    };
  };
  const all = rows.map((_, i) => i);
  const out = { all: figures(all), flagged, scores };
  for (const [name, keep] of Object.entries(subsets)) out[name] = figures(all.filter((i) => keep(rows[i])));
  return out;
}
