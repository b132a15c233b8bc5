/**
 * Trains the local moderation model (models/moderation.json).
 *
 * Training rows: the shared development rows whose source licence allows shipping derived work, plus
 * data/training/moderation-public.jsonl.gz (public multilingual sets, rebuilt by scripts/build-moderation-data.ts) and
 * data/training/moderation-own.jsonl (examples written for this project, named as such). Never trained on and never
 * used to pick thresholds: tweeteval and do-not-answer (licence), the XSTest prompts and the benign hard negatives of
 * test/fixtures/moderation-benign-hard.jsonl (they measure over-blocking).
 *
 *   npx tsx scripts/train-moderation.ts            # AGENTGUARD_SHARED_DATA defaults to ../shared/data
 *
 * Estimates: leave-one-source-out cross-validation (each source scored by a model trained without it), reported per
 * source, per category and per language. Deterministic: fixed seed and row order.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { extractFeatures, type FeatureOptions } from '../src/core/guardrails/classifier/features.js';
import { LinearModel, sparseWeights, type LinearModelFile } from '../src/core/guardrails/classifier/linear-model.js';
import { trainLogistic } from '../src/core/guardrails/classifier/train.js';
import { percentile, prf, type Counts } from '../src/core/guardrails/eval/metrics.js';
import { isHardNegative, scoreModeration, type ModerationRow } from '../src/core/guardrails/eval/moderation.js';
import { categoryLabels, MODERATION_CATEGORIES, type CategoryLabels, type ModerationCategory } from '../src/core/guardrails/moderation/categories.js';
import { moderationGuardrail } from '../src/core/guardrails/moderation/index.js';
import { decide, scorePrepared, type TextScores } from '../src/core/guardrails/moderation/model.js';
import { prepareText } from '../src/core/guardrails/moderation/prepare.js';
import type { NormalizeOptions } from '../src/core/guardrails/text/normalize.js';
import type { Finding } from '../src/core/guardrails/types.js';

const DATA = resolve(process.env.AGENTGUARD_SHARED_DATA ?? '../shared/data');
const PUBLIC_ROWS = resolve('data/training/moderation-public.jsonl.gz');
const OWN_ROWS = resolve('data/training/moderation-own.jsonl');
const BENIGN_TEST = resolve('test/fixtures/moderation-benign-hard.jsonl');
const OUT = resolve('models/moderation.json');
const SEED = 20_260_525;
const FOLDS = 5;
const FEATURES: FeatureOptions = { wordNgrams: [1, 2], charNgrams: [3, 4, 5], cjkNgrams: [1, 2], buckets: 1 << 17 };
/** Russian keeps its Cyrillic letters (look-alikes fold to Latin only inside words mixing scripts). */
const NORMALIZE: NormalizeOptions = { keepScripts: true };
const TRAIN = { epochs: 6, learningRate: 0.5, l2: 1e-5 };
/** Largest weights kept per category, so the file stays well under 3 MB. */
const KEEP_WEIGHTS = Number(process.env.MODERATION_KEEP ?? 20_000);
/** Thresholds never go below this (keeps benign texts quiet). */
const MIN_THRESHOLD = 0.35;
/** Davidson's tweets are most of the shippable rows and one style: every second one keeps them from drowning the rest. */
const DAVIDSON_STRIDE = 2;

/** Development sources whose licence (eval/SOURCES.json) allows redistributing derived work. */
const SHIPPABLE = [
  'paul-rottger/exaggerated-safety:', // CC-BY-4.0 (half of the safe prompts, see below)
  'openai/moderation-api-release:', // MIT
  't-davidson/hate-speech-and-offensive-language:', // MIT
  'microsoft/TOXIGEN:', // MIT
];
const isShippable = (source: string) => SHIPPABLE.some((prefix) => source.startsWith(prefix));

interface LangRow extends ModerationRow {
  lang: string;
}

interface Row extends LangRow {
  gold: CategoryLabels;
  x: Map<number, number>;
  prepared: string;
  group: string;
}

const readJsonl = <T>(text: string): T[] =>
  text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as T);

/** The unit of leave-one-source-out: a repository, except that each language file of a multilingual set is its own. */
function sourceGroup(source: string): string {
  if (source.startsWith('agentguard/self-written:')) return 'agentguard/self-written';
  if (source.startsWith('rewire-online/multilingual-hatecheck:')) return source.replace(/MHC Final Cases\/hatecheck_cases_final_(\w+)\.csv$/, '$1');
  return source.split(':')[0];
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
  return { version: 1, features: FEATURES, normalize: NORMALIZE, labels: [...MODERATION_CATEGORIES], bias, weights, thresholds, trainedOn: [], ...extra };
}

/** Shares of the benign pools (see `pools` in main) that ANY category may flag, on out-of-fold scores. */
const MAX_ALARMING_SHARE = 0.03;
const MAX_GROUP_MENTION_SHARE = 0.08;

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

const GRID = Array.from({ length: Math.round((0.95 - MIN_THRESHOLD) * 100) + 1 }, (_, i) => Math.round((MIN_THRESHOLD + i * 0.01) * 100) / 100);

/**
 * Per category the threshold with the best leave-one-source-out F1 (>= MIN_THRESHOLD); then, while more than
 * MAX_HARD_NEGATIVE_SHARE of the hard negatives (5-fold out-of-fold scores) are flagged, raise the threshold whose next step loses the
 * least F1 per hard negative it silences.
 */
/** Benign texts scored by the model, and the largest share of them that may be flagged. */
interface HardPool {
  name: string;
  scores: TextScores[];
  maxShare: number;
}

function chooseThresholds(perCategory: Record<ModerationCategory, CategoryData>, pools: HardPool[]): Record<ModerationCategory, number> {
  const t = {} as Record<ModerationCategory, number>;
  for (const c of MODERATION_CATEGORIES) {
    t[c] = GRID.reduce((best, x) => (f1At(perCategory[c], x) > f1At(perCategory[c], best) ? x : best), GRID[0]);
  }
  const flaggedIn = (pool: HardPool) => pool.scores.filter((h) => MODERATION_CATEGORIES.some((c) => decide(h, c, t[c]).flagged)).length;
  /** Flagged texts beyond what the pools allow (0 when every pool is within its share). */
  const excess = () => pools.reduce((sum, pool) => sum + Math.max(0, flaggedIn(pool) - pool.maxShare * pool.scores.length), 0);
  for (const c of MODERATION_CATEGORIES) {
    const alone = pools.map((pool) => `${pool.scores.filter((h) => decide(h, c, t[c]).flagged).length}/${pool.scores.length} ${pool.name}`).join(', ');
    console.log(`  best-F1 threshold ${c}: ${t[c]} (F1 ${f1At(perCategory[c], t[c]).toFixed(3)}), flags ${alone}`);
  }
  const top = GRID[GRID.length - 1];
  while (excess() > 0) {
    // Cheapest move: for each category the smallest raise that lowers the excess, costed as F1 lost per text silenced.
    let pick: { c: ModerationCategory; to: number; cost: number } | undefined;
    const before = excess();
    for (const c of MODERATION_CATEGORIES) {
      const old = t[c];
      for (let to = Math.round((old + 0.01) * 100) / 100; to <= top; to = Math.round((to + 0.01) * 100) / 100) {
        t[c] = to;
        const gain = before - excess();
        t[c] = old;
        if (gain <= 0) continue;
        const cost = (f1At(perCategory[c], old) - f1At(perCategory[c], to)) / gain;
        if (pick === undefined || cost < pick.cost) pick = { c, to, cost };
        break;
      }
    }
    if (pick === undefined) break; // only rule matches are left; thresholds cannot help
    t[pick.c] = pick.to;
  }
  for (const pool of pools) console.log(`  ${pool.name}: ${flaggedIn(pool)} of ${pool.scores.length} flagged at the chosen thresholds`);
  return t;
}

const round = (n: number) => Math.round(n * 1000) / 1000;

function findingsAt(scores: TextScores, thresholds: Record<string, number>, length: number): Finding[] {
  return MODERATION_CATEGORIES.flatMap((c) => {
    const { flagged, score } = decide(scores, c, thresholds[c]);
    return flagged ? [{ guardrail: 'moderation', type: c, start: 0, end: length, score }] : [];
  });
}

/** Per-category precision/recall/F1 of some rows, plus the micro F1 and the share of all-0 rows flagged. */
function summary(rows: Row[], findings: Finding[][]) {
  const report = scoreModeration('moderation', rows, { findings, latencyMs: rows.map(() => 0) });
  const perCategory: Record<string, unknown> = {};
  for (const c of MODERATION_CATEGORIES) {
    const s = report.perType[c];
    if (s.support > 0 || rows.some((row) => row.gold[c] === 0)) perCategory[c] = { p: round(s.precision), r: round(s.recall), f1: round(s.f1), n: s.support };
  }
  // Benign = every label the source gives is 0 (an offensive tweet that is not hate is not benign).
  const benign = rows.flatMap((row, i) => (Object.values(row.labels).length > 0 && Object.values(row.labels).every((y) => y === 0) ? [i] : []));
  const benignFlagged = benign.filter((i) => findings[i].length > 0).length;
  return {
    rows: rows.length,
    precision: round(report.precision),
    recall: round(report.recall),
    microF1: round(report.f1),
    benignRows: benign.length,
    benignFlaggedShare: benign.length === 0 ? null : round(benignFlagged / benign.length),
    perCategory,
  };
}

const SHOWN: ModerationCategory[] = ['hate', 'harassment', 'violence', 'self-harm', 'sexual'];

/** One line per entry: rows, micro P/R/F1, benign rows flagged, then recall/F1 per shown category (- when unlabelled). */
function printTable(entries: Record<string, ReturnType<typeof summary>>): void {
  const cell = (value: number | null | undefined) => (value === null || value === undefined ? '-' : value.toFixed(2));
  console.log(['source', 'rows', 'P', 'R', 'F1', 'benign flagged', ...SHOWN.map((c) => `${c} R/F1`)].join(' | '));
  for (const [name, s] of Object.entries(entries)) {
    const per = SHOWN.map((c) => {
      const v = s.perCategory[c] as { r: number; f1: number; n: number } | undefined;
      return v === undefined || v.n === 0 ? '-' : `${cell(v.r)}/${cell(v.f1)} (${v.n})`;
    });
    console.log([name, s.rows, cell(s.precision), cell(s.recall), cell(s.microF1), `${cell(s.benignFlaggedShare)} of ${s.benignRows}`, ...per].join(' | '));
  }
}

function main(): void {
  const dev = readJsonl<ModerationRow>(readFileSync(resolve(DATA, 'eval/moderation.dev.jsonl'), 'utf8'));
  const extra = [...readJsonl<LangRow>(gunzipSync(readFileSync(PUBLIC_ROWS)).toString('utf8')), ...readJsonl<LangRow>(readFileSync(OWN_ROWS, 'utf8'))];
  const prepared = (row: LangRow): Row => {
    const text = prepareText(row.text, NORMALIZE);
    return { ...row, gold: categoryLabels(row.labels), x: extractFeatures(text, FEATURES), prepared: text, group: sourceGroup(row.source) };
  };
  const shippableDev = dev.filter((row) => isShippable(row.source) && !row.source.includes('exaggerated-safety'));
  const davidsonRows = shippableDev.filter((row) => row.source.startsWith('t-davidson/'));
  const keptDev = shippableDev.filter((row) => !row.source.startsWith('t-davidson/')).concat(davidsonRows.filter((_, i) => i % DAVIDSON_STRIDE === 0));
  // XSTest's safe prompts (benign texts with alarming words): every second one is trained on as a negative, the
  // others are kept out to measure over-blocking. Its unsafe prompts carry no category and are not used.
  const xstestSafe = dev.filter((row) => row.source.includes('exaggerated-safety') && row.labels.unsafe_request === 0);
  const xstestTrain = xstestSafe.filter((_, i) => i % 2 === 0);
  const xstestHeldOut = xstestSafe.filter((_, i) => i % 2 === 1);
  const train = [...keptDev, ...xstestTrain].map((row) => ({ ...row, lang: 'en' })).concat(extra).map(prepared);
  const groups = [...new Set(train.map((row) => row.group))].sort();
  console.log(`training rows ${train.length} from ${groups.length} sources: ${groups.join(', ')}`);

  // Leave-one-source-out: every row scored by a model trained without its source.
  const oof: TextScores[] = new Array(train.length);
  groups.forEach((group, k) => {
    const started = performance.now();
    const model = LinearModel.fromFile(modelFile(train.filter((row) => row.group !== group), Object.fromEntries(MODERATION_CATEGORIES.map((c) => [c, 0.5])), SEED + k));
    train.forEach((row, i) => {
      if (row.group === group) oof[i] = scorePrepared(model.scoresFromFeatures(row.x), row.prepared);
    });
    console.log(`LOSO ${k + 1}/${groups.length} (${group}) done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  });

  // Random 5-fold (rows of a source seen in training): the estimate for new rows of a known source and language.
  const kfold: TextScores[] = new Array(train.length);
  for (let k = 0; k < FOLDS; k++) {
    const model = LinearModel.fromFile(modelFile(train.filter((_, i) => i % FOLDS !== k), Object.fromEntries(MODERATION_CATEGORIES.map((c) => [c, 0.5])), SEED + 100 + k));
    train.forEach((row, i) => {
      if (i % FOLDS === k) kfold[i] = scorePrepared(model.scoresFromFeatures(row.x), row.prepared);
    });
  }
  const perCategory = Object.fromEntries(
    MODERATION_CATEGORIES.map((c) => {
      const idx = train.flatMap((row, i) => (row.gold[c] === undefined ? [] : [i]));
      return [c, { scores: idx.map((i) => oof[i].model[c]), ruleHit: idx.map((i) => oof[i].rules[c] > 0), gold: idx.map((i) => train[i].gold[c]!) }];
    }),
  ) as Record<ModerationCategory, CategoryData>;
  /**
   * Benign texts the thresholds must leave alone (every label the source gives is 0): texts with violent-sounding words
   * (English rows passing isHardNegative's English word test, XSTest's safe prompts, self-written benign texts), and
   * neutral or positive mentions of a group (Multilingual HateCheck's benign functionalities, 0 in every category).
   */
  const allZero = (row: Row) => Object.values(row.labels).length > 0 && Object.values(row.labels).every((y) => y === 0);
  const alarming = (row: Row) => allZero(row) && ((row.lang === 'en' && isHardNegative(row)) || row.group === 'agentguard/self-written');
  const groupMention = (row: Row) => allZero(row) && row.group.startsWith('rewire-online/') && Object.keys(row.labels).length >= 4;
  const isHard = (row: Row) => alarming(row) || groupMention(row);
  // Scored by the 5-fold models (which saw texts of their kind, as the shipped model does); the F1 side uses the
  // leave-one-source-out scores (what transfers to a source never seen).
  const pools: HardPool[] = [
    { name: 'violent-sounding benign', scores: train.flatMap((row, i) => (alarming(row) ? [kfold[i]] : [])), maxShare: MAX_ALARMING_SHARE },
    { name: 'benign group mentions', scores: train.flatMap((row, i) => (groupMention(row) ? [kfold[i]] : [])), maxShare: MAX_GROUP_MENTION_SHARE },
  ];
  const thresholds: Record<string, number> = chooseThresholds(perCategory, pools);
  console.log('thresholds', thresholds);

  const oofFindings = train.map((row, i) => findingsAt(oof[i], thresholds, row.text.length));
  const kfoldFindings = train.map((row, i) => findingsAt(kfold[i], thresholds, row.text.length));
  const pick = (keep: (row: Row) => boolean, findings = oofFindings) => {
    const idx = train.flatMap((row, i) => (keep(row) ? [i] : []));
    return summary(idx.map((i) => train[i]), idx.map((i) => findings[i]));
  };
  const languages = [...new Set(train.map((row) => row.lang))].sort();
  const publicRows = (row: Row) => row.group !== 'agentguard/self-written';
  const loso = {
    all: pick(() => true),
    publicOnly: pick(publicRows),
    perSource: Object.fromEntries(groups.map((g) => [g, pick((row) => row.group === g)])),
    perLanguage: Object.fromEntries(languages.map((lang) => [lang, pick((row) => row.lang === lang && publicRows(row))])),
    perLanguageSelfWritten: Object.fromEntries(languages.map((lang) => [lang, pick((row) => row.lang === lang && !publicRows(row))])),
  };
  const fiveFold = {
    all: pick(() => true, kfoldFindings),
    perLanguage: Object.fromEntries(languages.map((lang) => [lang, pick((row) => row.lang === lang && publicRows(row), kfoldFindings)])),
  };
  console.log('leave-one-source-out (F1-best thresholds were picked on these same out-of-source scores):');
  printTable({ 'all rows': loso.all, 'public rows only': loso.publicOnly, ...loso.perSource });
  console.log('per language, public rows, leave-one-source-out:');
  printTable(loso.perLanguage);
  console.log('per language, self-written rows, leave-one-source-out (not independent):');
  printTable(loso.perLanguageSelfWritten);
  console.log(`per language, public rows, random ${FOLDS}-fold:`);
  printTable({ 'all rows': fiveFold.all, ...fiveFold.perLanguage });

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
        'toxic=0 -> hate 0, harassment 0; unsafe_request=0 -> all 0; unsafe_request=1 and toxic=1 not mapped; missing key = not labelled; ' +
        'extra sources mapped by scripts/build-moderation-data.ts',
      rules: 'hand-written, reviewed phrase rules (src/core/guardrails/moderation/rules.ts); a rule match flags its category whatever the model threshold',
      thresholdChoice: `best leave-one-source-out F1 per category (>= ${MIN_THRESHOLD}), raised greedily until <= ${MAX_ALARMING_SHARE} of violent-sounding benign texts and <= ${MAX_GROUP_MENTION_SHARE} of benign group mentions are flagged (random 5-fold out-of-fold scores)`,
      trainingRows: train.length,
      labelCounts: counts,
      leaveOneSourceOut: loso,
      randomFiveFold: fiveFold,
      seed: SEED,
      train: TRAIN,
      keepWeightsPerCategory: KEEP_WEIGHTS,
      davidsonStride: DAVIDSON_STRIDE,
    },
  });
  writeFileSync(OUT, `${JSON.stringify(file)}\n`);

  // Never trained on, never used for thresholds: the shipped guardrail on them.
  const guardrail = moderationGuardrail.create({}, LinearModel.fromFile(file));
  const flaggedShare = (texts: string[]) => round(texts.filter((text) => (guardrail.detect(text) as Finding[]).length > 0).length / Math.max(1, texts.length));
  const benignTest = readJsonl<LangRow>(readFileSync(BENIGN_TEST, 'utf8'));
  const xstestUnsafe = dev.filter((row) => row.source.includes('exaggerated-safety') && row.labels.unsafe_request === 1).map((row) => row.text);
  const dna = dev.filter((row) => row.source.includes('donotanswer')).map((row) => row.text);
  const tweeteval = dev.filter((row) => row.source.startsWith('cardiffnlp/tweeteval:'));
  const te = scoreModeration('moderation', tweeteval, { findings: tweeteval.map((row) => guardrail.detect(row.text) as Finding[]), latencyMs: tweeteval.map(() => 0) });
  const heldOut = {
    benignHardNegativesFlagged: flaggedShare(benignTest.map((row) => row.text)),
    benignHardNegativesPerLanguage: Object.fromEntries([...new Set(benignTest.map((row) => row.lang))].map((lang) => [lang, flaggedShare(benignTest.filter((row) => row.lang === lang).map((row) => row.text))])),
    xstestSafeHeldOutFlagged: flaggedShare(xstestHeldOut.map((row) => row.text)),
    xstestUnsafeFlagged: flaggedShare(xstestUnsafe),
    doNotAnswerFlagged: flaggedShare(dna),
    tweetevalHate: { p: round(te.perType.hate.precision), r: round(te.perType.hate.recall), f1: round(te.perType.hate.f1), n: te.perType.hate.support },
  };
  console.log('held out (never trained on, thresholds not tuned on):', JSON.stringify(heldOut));
  file.metrics = { ...file.metrics, heldOut };
  const json = JSON.stringify(file);
  writeFileSync(OUT, `${json}\n`);
  console.log(`wrote ${OUT} (${(json.length / 1024 / 1024).toFixed(2)} MB)`);

  // Latency on 1 KB texts made of consecutive dev rows, after a warm-up.
  const texts: string[] = [];
  for (let i = 0, buffer = ''; i < dev.length && texts.length < 2000; i++) {
    buffer += `${dev[i].text}\n`;
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
