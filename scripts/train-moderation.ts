/**
 * Trains the local moderation model (models/moderation.json) from the shared moderation data.
 * Only rows from sources whose licence allows shipping derived work are used for training;
 * tweeteval and do-not-answer rows are scored as unseen data at the end (measurement only).
 *
 *   npx tsx scripts/train-moderation.ts            # AGENTGUARD_SHARED_DATA defaults to ../shared/data
 *
 * Deterministic: fixed seed, fixed row order, fixed fold assignment.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { extractFeatures, type FeatureOptions } from '../src/core/guardrails/classifier/features.js';
import { LinearModel, sparseWeights, type LinearModelFile } from '../src/core/guardrails/classifier/linear-model.js';
import { seededRandom, shuffled } from '../src/core/guardrails/classifier/random.js';
import { trainLogistic } from '../src/core/guardrails/classifier/train.js';
import { percentile, prf, type Counts } from '../src/core/guardrails/eval/metrics.js';
import { isHardNegative, scoreModeration, type ModerationRow } from '../src/core/guardrails/eval/moderation.js';
import { categoryLabels, MODERATION_CATEGORIES, type CategoryLabels, type ModerationCategory } from '../src/core/guardrails/moderation/categories.js';
import { moderationGuardrail } from '../src/core/guardrails/moderation/index.js';
import { decide, scorePrepared, type TextScores } from '../src/core/guardrails/moderation/model.js';
import { prepareText } from '../src/core/guardrails/moderation/prepare.js';
import type { Finding } from '../src/core/guardrails/types.js';

const DATA = resolve(process.env.AGENTGUARD_SHARED_DATA ?? '../shared/data');
const OUT = resolve('models/moderation.json');
const SEED = 20_260_525;
const FOLDS = 5;
const FEATURES: FeatureOptions = { wordNgrams: [1, 2], charNgrams: [3, 4, 5], buckets: 1 << 16 };
const TRAIN = { epochs: 6, learningRate: 0.5, l2: 1e-5 };
/** Largest weights kept per category, so the file stays well under 3 MB. */
const KEEP_WEIGHTS = 12_000;
/** Thresholds are chosen on out-of-fold scores, never below this (keeps hard negatives quiet). */
const MIN_THRESHOLD = 0.5;

/** Sources whose licence (eval/SOURCES.json) allows redistributing derived work. */
const SHIPPABLE = [
  'openai/moderation-api-release:', // MIT
  't-davidson/hate-speech-and-offensive-language:', // MIT
  'microsoft/TOXIGEN:', // MIT
  'paul-rottger/exaggerated-safety:', // CC-BY-4.0
  'paul-rottger/hatecheck-data:', // CC-BY-4.0
  'surge-ai/toxicity:', // MIT
];
const isShippable = (source: string) => SHIPPABLE.some((prefix) => source.startsWith(prefix));

interface Row extends ModerationRow {
  gold: CategoryLabels;
  x: Map<number, number>;
  prepared: string;
}

function readRows(): ModerationRow[] {
  return readFileSync(resolve(DATA, 'eval/moderation.dev.jsonl'), 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as ModerationRow);
}

function trainCategory(rows: Row[], category: ModerationCategory, seed: number) {
  const labelled = rows.filter((row) => row.gold[category] !== undefined).map((row) => ({ x: row.x, y: row.gold[category]! }));
  const positives = labelled.filter((row) => row.y === 1).length;
  const negatives = labelled.length - positives;
  const positiveWeight = positives === 0 ? 1 : Math.min(8, Math.max(1, Math.sqrt(negatives / positives)));
  return { ...trainLogistic(labelled, { ...TRAIN, seed, positiveWeight }), positives, negatives, positiveWeight };
}

function topWeights(weights: Map<number, number>, keep: number): Map<number, number> {
  return new Map([...weights].sort((a, b) => Math.abs(b[1]) - Math.abs(a[1]) || a[0] - b[0]).slice(0, keep));
}

function modelFile(rows: Row[], thresholds: Record<string, number>, seed: number, extra: Partial<LinearModelFile> = {}): LinearModelFile {
  const bias: Record<string, number> = {};
  const weights: Record<string, Record<string, number>> = {};
  for (const category of MODERATION_CATEGORIES) {
    const trained = trainCategory(rows, category, seed);
    bias[category] = Math.round(trained.bias * 1e4) / 1e4;
    weights[category] = sparseWeights(topWeights(trained.weights, KEEP_WEIGHTS));
  }
  return { version: 1, features: FEATURES, labels: [...MODERATION_CATEGORIES], bias, weights, thresholds, trainedOn: [], ...extra };
}

/** Out-of-fold hard negatives flagged by ANY category may be at most this share. */
const MAX_HARD_NEGATIVE_SHARE = 0.045;

/** Model scores and rule hits of the rows labelling one category. */
interface CategoryData {
  scores: number[];
  ruleHit: boolean[];
  gold: Array<0 | 1>;
}

function f1At({ scores, ruleHit, gold }: CategoryData, t: number): number {
  const c: Counts = { tp: 0, fp: 0, fn: 0 };
  scores.forEach((s, i) => {
    const flagged = s >= t || ruleHit[i];
    if (flagged && gold[i] === 1) c.tp++;
    else if (flagged) c.fp++;
    else if (gold[i] === 1) c.fn++;
  });
  return prf(c).f1;
}

const GRID = Array.from({ length: 46 }, (_, i) => Math.round((MIN_THRESHOLD + i * 0.01) * 100) / 100);

/**
 * Per category the threshold with the best out-of-fold F1 (>= MIN_THRESHOLD); then, while more
 * than MAX_HARD_NEGATIVE_SHARE of out-of-fold hard negatives are flagged, raise the threshold
 * whose next step loses the least F1 per hard negative it silences.
 */
function chooseThresholds(
  perCategory: Record<ModerationCategory, CategoryData>,
  hard: TextScores[],
): Record<ModerationCategory, number> {
  const t = {} as Record<ModerationCategory, number>;
  for (const c of MODERATION_CATEGORIES) {
    t[c] = GRID.reduce((best, x) => (f1At(perCategory[c], x) > f1At(perCategory[c], best) ? x : best), GRID[0]);
  }
  const flagged = () => hard.filter((h) => MODERATION_CATEGORIES.some((c) => decide(h, c, t[c]).flagged)).length;
  for (const c of MODERATION_CATEGORIES) {
    const alone = hard.filter((h) => decide(h, c, t[c]).flagged).length;
    console.log(`  best-F1 threshold ${c}: ${t[c]} (F1 ${f1At(perCategory[c], t[c]).toFixed(3)}), flags ${alone} of ${hard.length} hard negatives`);
  }
  const top = GRID[GRID.length - 1];
  while (flagged() > MAX_HARD_NEGATIVE_SHARE * hard.length) {
    // Cheapest move: for each category the smallest raise that silences at least one more hard
    // negative, costed as F1 lost per hard negative silenced.
    let pick: { c: ModerationCategory; to: number; cost: number } | undefined;
    const before = flagged();
    for (const c of MODERATION_CATEGORIES) {
      const old = t[c];
      for (let to = Math.round((old + 0.01) * 100) / 100; to <= top; to = Math.round((to + 0.01) * 100) / 100) {
        t[c] = to;
        const gain = before - flagged();
        t[c] = old;
        if (gain === 0) continue;
        const cost = (f1At(perCategory[c], old) - f1At(perCategory[c], to)) / gain;
        if (pick === undefined || cost < pick.cost) pick = { c, to, cost };
        break;
      }
    }
    if (pick === undefined) break; // only rule matches are left; thresholds cannot help
    t[pick.c] = pick.to;
  }
  return t;
}

const round = (n: number) => Math.round(n * 1000) / 1000;

function main(): void {
  const all = readRows();
  const prepared = (row: ModerationRow): Row => {
    const text = prepareText(row.text);
    return { ...row, gold: categoryLabels(row.labels), x: extractFeatures(text, FEATURES), prepared: text };
  };
  const train = all.filter((row) => isShippable(row.source)).map(prepared);
  const unseen = all.filter((row) => !isShippable(row.source));
  console.log(`training rows ${train.length}, unseen (measure only) rows ${unseen.length}`);

  // 5-fold cross-validation: out-of-fold combined (model + rules) scores for every training row.
  const order = shuffled(train.map((_, index) => index), seededRandom(SEED));
  const fold = new Array<number>(train.length);
  order.forEach((rowIndex, position) => (fold[rowIndex] = position % FOLDS));
  const oof: TextScores[] = new Array(train.length);
  for (let k = 0; k < FOLDS; k++) {
    const model = LinearModel.fromFile(modelFile(train.filter((_, i) => fold[i] !== k), Object.fromEntries(MODERATION_CATEGORIES.map((c) => [c, 0.5])), SEED + k));
    train.forEach((row, i) => {
      if (fold[i] === k) oof[i] = scorePrepared(model.scoresFromFeatures(row.x), row.prepared);
    });
    console.log(`fold ${k + 1}/${FOLDS} done`);
  }

  const cv: Record<string, unknown> = {};
  const perCategory = Object.fromEntries(
    MODERATION_CATEGORIES.map((c) => {
      const idx = train.flatMap((row, i) => (row.gold[c] === undefined ? [] : [i]));
      return [c, { scores: idx.map((i) => oof[i].model[c]), ruleHit: idx.map((i) => oof[i].rules[c] > 0), gold: idx.map((i) => train[i].gold[c]!) }];
    }),
  ) as Record<ModerationCategory, CategoryData>;
  const thresholds: Record<string, number> = chooseThresholds(perCategory, train.flatMap((row, i) => (isHardNegative(row) ? [oof[i]] : [])));
  // Cross-validated report at the chosen thresholds (thresholds were picked on the same OOF scores).
  const cvFindings = train.map((row, i) =>
    MODERATION_CATEGORIES.filter((c) => decide(oof[i], c, thresholds[c]).flagged).map((c) => ({ guardrail: 'moderation', type: c, start: 0, end: row.text.length, score: decide(oof[i], c, thresholds[c]).score })),
  );
  const cvReport = scoreModeration('moderation', train, { findings: cvFindings, latencyMs: train.map(() => 0) });
  for (const category of MODERATION_CATEGORIES) {
    const s = cvReport.perType[category];
    cv[category] = { precision: round(s.precision), recall: round(s.recall), f1: round(s.f1), support: s.support, threshold: thresholds[category] };
  }
  console.log('5-fold CV (rows never trained on):');
  console.table(cv);
  console.log(`CV micro F1 ${round(cvReport.f1)}, macro F1 ${round(Number(cvReport.extra!.macroF1))}, hard negatives flagged ${round(Number(cvReport.extra!.hardNegativeFlaggedShare))} of ${cvReport.extra!.hardNegatives}`);

  const trainedOn = [...new Set(train.map((row) => row.source))].sort();
  const counts = Object.fromEntries(
    MODERATION_CATEGORIES.map((c) => [c, { positives: train.filter((r) => r.gold[c] === 1).length, negatives: train.filter((r) => r.gold[c] === 0).length }]),
  );
  const file = modelFile(train, thresholds, SEED, {
    trainedOn,
    metrics: {
      labelMapping:
        'hate<-hate|hate_threatening; harassment<-harassment (offensive=0&hate=0 -> 0; offensive=1 not mapped); sexual<-sexual|sexual_minors; ' +
        'sexual/minors<-sexual_minors; self-harm<-self_harm; violence<-violence|violence_graphic|hate_threatening; violence/graphic<-violence_graphic; ' +
        'toxic=0 -> hate 0, harassment 0; unsafe_request=0 (XSTest safe) -> all 0; unsafe_request=1 and toxic=1 not mapped; missing key = not labelled',
      rules: 'hand-written, reviewed phrase rules (src/core/guardrails/moderation/rules.ts) for every category; a rule match flags its category whatever the model threshold',
      thresholdChoice: `best out-of-fold F1 per category (>= ${MIN_THRESHOLD}; a rule match flags regardless of the threshold), model thresholds raised greedily until <= ${MAX_HARD_NEGATIVE_SHARE} of out-of-fold hard negatives are flagged`,
      trainingRows: train.length,
      labelCounts: counts,
      crossValidated5Fold: { perCategory: cv, microF1: round(cvReport.f1), macroF1: round(Number(cvReport.extra!.macroF1)), hardNegativeFlaggedShare: round(Number(cvReport.extra!.hardNegativeFlaggedShare)) },
      seed: SEED,
      train: TRAIN,
      keepWeightsPerCategory: KEEP_WEIGHTS,
    },
  });
  const json = JSON.stringify(file);
  writeFileSync(OUT, `${json}\n`);
  console.log(`wrote ${OUT} (${(json.length / 1024 / 1024).toFixed(2)} MB)`);

  // Whole-set figures with the shipped guardrail (trained on these rows: optimistic) and unseen sources.
  const guardrail = moderationGuardrail.create({});
  const report = (rows: ModerationRow[]) => {
    const findings = rows.map((row) => guardrail.detect(row.text) as Finding[]);
    return scoreModeration('moderation', rows, { findings, latencyMs: rows.map(() => 0) });
  };
  const whole = report(train);
  console.log(`whole shippable dev set (trained on): micro F1 ${round(whole.f1)} macro ${round(Number(whole.extra!.macroF1))} hard-neg ${round(Number(whole.extra!.hardNegativeFlaggedShare))}`);
  for (const c of MODERATION_CATEGORIES) console.log(`  ${c}: f1 ${round(whole.perType[c].f1)} p ${round(whole.perType[c].precision)} r ${round(whole.perType[c].recall)} n+ ${whole.perType[c].support}`);
  const tweeteval = unseen.filter((row) => row.source.startsWith('cardiffnlp/tweeteval:'));
  const te = report(tweeteval);
  console.log(`tweeteval (unseen): hate f1 ${round(te.perType.hate.f1)} p ${round(te.perType.hate.precision)} r ${round(te.perType.hate.recall)}`);
  const dna = unseen.filter((row) => row.source.includes('donotanswer'));
  const flagged = dna.filter((row) => (guardrail.detect(row.text) as unknown[]).length > 0).length;
  console.log(`do-not-answer (unseen, unsafe requests): flagged by any category ${round(flagged / dna.length)} of ${dna.length}`);
  console.log(`hard negatives in training rows: ${train.filter(isHardNegative).length}`);

  // Latency on 1 KB texts made of consecutive dev rows, after a warm-up.
  const texts: string[] = [];
  for (let i = 0, buffer = ''; i < all.length && texts.length < 2000; i++) {
    buffer += `${all[i].text}\n`;
    if (buffer.length >= 1024) {
      texts.push(buffer.slice(0, 1024));
      buffer = '';
    }
  }
  for (const text of texts.slice(0, 200)) guardrail.detect(text);
  const times = texts.map((text) => {
    const started = performance.now();
    guardrail.detect(text);
    return performance.now() - started;
  });
  console.log(`latency per 1 KB text (${times.length} texts): p50 ${percentile(times, 50).toFixed(3)} ms, p99 ${percentile(times, 99).toFixed(3)} ms`);
}

main();
