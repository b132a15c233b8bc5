import { AgentGuardError } from '../../errors.js';
import { categoryLabels, MODERATION_CATEGORIES, type DatasetLabels } from '../moderation/categories.js';
import type { Finding, Guardrail } from '../types.js';
import { sourceGroup } from './binary.js';
import { rowLanguage } from './language.js';
import { addCounts, percentile, prf, type Counts, type PrfScores } from './metrics.js';
import type { EvalReport } from './report.js';
import { slices, type SlicedOutcome } from './slices.js';

/** One row of moderation.dev.jsonl (or any file in that schema). */
export interface ModerationRow {
  text: string;
  labels: DatasetLabels;
  source: string;
  /** ISO 639-1 language of the text; detected when absent. */
  lang?: string;
}

/** Words that make benign text look violent; a row labelled all-0 containing one is a hard negative. */
const ALARMING_WORDS =
  /\b(kill(s|ed|ing)?|shoot(s|ing)?|shot|attack(s|ed|ing)?|murder(s|ed)?|stab(s|bed|bing)?|bomb(s|ed|ing)?|execut(e|ed|es|ing)|slaughter|strangle|choke|behead|gun(s)?|weapon(s)?|blood(y)?|die|dead|death|massacre|assault|punch|beat(ing)?|destroy|terminate|explode|hang)\b/i;

/** XSTest's safe prompts, and rows labelled 0 everywhere whose words sound violent. */
export function isHardNegative(row: ModerationRow): boolean {
  if (row.source.includes('exaggerated-safety')) return row.labels.unsafe_request === 0;
  const values = Object.values(row.labels);
  return values.length > 0 && values.every((value) => value === 0) && ALARMING_WORDS.test(row.text);
}

/** What a guardrail said about each row, and how long it took. */
export interface ModerationPredictions {
  findings: Finding[][];
  latencyMs: number[];
}

const ZERO: Counts = { tp: 0, fp: 0, fn: 0 };

/**
 * Scores predictions already made (sync or async guardrail alike). Per category only rows that
 * label the category count (dataset labels mapped by `categoryLabels`); a category counts as
 * predicted when any finding has its type. Headline figures are micro averages over the seven
 * categories; `extra.macroF1` averages the categories that have positives.
 */
export function scoreModeration(guardrail: string, rows: readonly ModerationRow[], predictions: ModerationPredictions): EvalReport {
  const counts = new Map<string, Counts>(MODERATION_CATEGORIES.map((c) => [c, { ...ZERO }]));
  let scored = 0;
  let hardNegatives = 0;
  let hardNegativesFlagged = 0;
  let totalChars = 0;
  const outcomes: SlicedOutcome[] = [];
  rows.forEach((row, index) => {
    const found = new Set(predictions.findings[index].map((finding) => finding.type));
    const gold = categoryLabels(row.labels);
    let labelled = false;
    let anyPositive = false;
    let anyPredicted = false;
    for (const category of MODERATION_CATEGORIES) {
      const y = gold[category];
      if (y === undefined) continue;
      labelled = true;
      const predicted = found.has(category);
      anyPositive ||= y === 1;
      anyPredicted ||= predicted;
      const c = counts.get(category)!;
      if (predicted && y === 1) c.tp++;
      else if (predicted) c.fp++;
      else if (y === 1) c.fn++;
    }
    // Per source and language: a row is positive when any category it labels is 1, flagged when any of those is found.
    if (labelled) {
      scored++;
      outcomes.push({ positive: anyPositive, predicted: anyPredicted, source: sourceGroup(row.source), language: rowLanguage(row) });
    }
    if (isHardNegative(row)) {
      hardNegatives++;
      if (found.size > 0) hardNegativesFlagged++;
    }
    totalChars += row.text.length;
  });

  const perType: Record<string, PrfScores> = {};
  let micro = { ...ZERO };
  const macro: number[] = [];
  for (const [category, c] of counts) {
    perType[category] = prf(c);
    micro = addCounts(micro, c);
    if (c.tp + c.fn > 0) macro.push(perType[category].f1);
  }
  const headline = prf(micro);
  const perKb = predictions.latencyMs.map((ms, index) => ms / Math.max(rows[index].text.length / 1024, 1 / 1024));
  return {
    guardrail,
    rows: scored,
    precision: headline.precision,
    recall: headline.recall,
    f1: headline.f1,
    perType,
    latencyMs: { p50: percentile(predictions.latencyMs, 50), p99: percentile(predictions.latencyMs, 99) },
    extra: {
      macroF1: macro.length === 0 ? 0 : macro.reduce((a, b) => a + b, 0) / macro.length,
      hardNegatives,
      hardNegativeFlaggedShare: hardNegatives === 0 ? 0 : hardNegativesFlagged / hardNegatives,
      msPerKbP50: percentile(perKb, 50),
      msPerKbP99: percentile(perKb, 99),
      meanChars: rows.length === 0 ? 0 : totalChars / rows.length,
    },
    slices: slices(outcomes),
  };
}

const WARM_UP_ROWS = 50;

function notSync(name: string): AgentGuardError {
  return new AgentGuardError('GUARDRAIL_NOT_SYNC', `Guardrail ${name} answers asynchronously; use evaluateModerationAsync`, {
    actions: ['Call evaluateModerationAsync for guardrails that call a service.'],
  });
}

/** Runs a local (synchronous) guardrail over `rows` after a warm-up and scores it. */
export function evaluateModeration(rows: readonly ModerationRow[], guardrail: Guardrail): EvalReport {
  const run = (text: string): Finding[] => {
    const result = guardrail.detect(text);
    if (!Array.isArray(result)) throw notSync(guardrail.name);
    return result;
  };
  for (const row of rows.slice(0, WARM_UP_ROWS)) run(row.text);
  const findings: Finding[][] = [];
  const latencyMs: number[] = [];
  for (const row of rows) {
    const started = performance.now();
    findings.push(run(row.text));
    latencyMs.push(performance.now() - started);
  }
  return scoreModeration(guardrail.name, rows, { findings, latencyMs });
}

/** Same as `evaluateModeration` for guardrails that call a service; rows are sent one at a time. */
export async function evaluateModerationAsync(rows: readonly ModerationRow[], guardrail: Guardrail): Promise<EvalReport> {
  const findings: Finding[][] = [];
  const latencyMs: number[] = [];
  for (const row of rows) {
    const started = performance.now();
    findings.push(await guardrail.detect(row.text));
    latencyMs.push(performance.now() - started);
  }
  return scoreModeration(guardrail.name, rows, { findings, latencyMs });
}
