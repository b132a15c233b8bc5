/**
 * Trains the PERSON/LOCATION tagger of the pii guardrail (an averaged perceptron over word,
 * shape, affix and neighbour features, greedy left to right) and writes models/pii-ner.json.
 *
 *   npx tsx scripts/train-pii-ner.ts            # 5-fold cross-validation, then the shipped model
 *   AGENTGUARD_SHARED_DATA=/path/to/data npx tsx scripts/train-pii-ner.ts
 *
 * Deterministic: a fixed seed orders rows and folds. Trains only on sources whose licence
 * allows shipping derived weights (see ../shared/data/README.md).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { addCounts, prf, spanCounts, type Counts, type Span } from '../src/core/guardrails/eval/metrics.js';
import { features, prepare, TAGS, type Prepared } from '../src/core/guardrails/pii/ner-features.js';
import { NerTagger, type NerModelFile } from '../src/core/guardrails/pii/ner-model.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DATA = resolve(ROOT, process.env.AGENTGUARD_SHARED_DATA ?? '../shared/data');
const OUT = resolve(ROOT, 'models/pii-ner.json');
const SEED = 20250605;
const EPOCHS = 8;
const FOLDS = 5;
/** Averaged weights smaller than this are dropped from the shipped file (keeps it small). */
const PRUNE = 0.02;
/** Sources (repository prefix → licence) whose rows may train shipped weights. */
const SHIPPABLE: Record<string, string> = {
  'microsoft/presidio-research': 'MIT',
  'leondz/emerging_entities_17': 'CC-BY-4.0',
};

interface Row {
  text: string;
  spans: Span[];
  labeled_types: string[];
  source: string;
}
interface Example {
  row: Row;
  prepared: Prepared;
  gold: number[];
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffle<T>(items: T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

function toExample(row: Row): Example {
  const prepared = prepare(row.text);
  const gold = prepared.tokens.map((t) => {
    const span = row.spans.find((s) => s.start < t.end && t.start < s.end && TAGS.includes(s.type as (typeof TAGS)[number]));
    return span === undefined ? 0 : TAGS.indexOf(span.type as (typeof TAGS)[number]);
  });
  return { row, prepared, gold };
}

/** Averaged perceptron with lazy averaging (weights are summed over every update step). */
function train(examples: Example[], seed: number): Record<string, number[]> {
  const k = TAGS.length;
  const weights = new Map<string, Float64Array>();
  const totals = new Map<string, Float64Array>();
  const stamps = new Map<string, Float64Array>();
  let step = 0;
  const scores = new Float64Array(k);
  const random = mulberry32(seed);
  const update = (feature: string, tag: number, delta: number) => {
    let w = weights.get(feature);
    if (w === undefined) {
      w = new Float64Array(k);
      weights.set(feature, w);
      totals.set(feature, new Float64Array(k));
      stamps.set(feature, new Float64Array(k));
    }
    const total = totals.get(feature)!;
    const stamp = stamps.get(feature)!;
    total[tag] += (step - stamp[tag]) * w[tag];
    stamp[tag] = step;
    w[tag] += delta;
  };
  for (let epoch = 0; epoch < EPOCHS; epoch++) {
    for (const ex of shuffle(examples, random)) {
      const { tokens, lower, shapes } = ex.prepared;
      let prev = 'O';
      let prev2 = 'O';
      for (let i = 0; i < tokens.length; i++) {
        step++;
        const feats = features(tokens, lower, shapes, ex.row.text, i, prev, prev2);
        scores.fill(0);
        for (const f of feats) {
          const w = weights.get(f);
          if (w !== undefined) for (let t = 0; t < k; t++) scores[t] += w[t];
        }
        let guess = 0;
        for (let t = 1; t < k; t++) if (scores[t] > scores[guess]) guess = t;
        const truth = ex.gold[i];
        if (guess !== truth) {
          for (const f of feats) {
            update(f, truth, 1);
            update(f, guess, -1);
          }
        }
        prev2 = prev;
        prev = TAGS[guess];
      }
    }
  }
  const averaged: Record<string, number[]> = {};
  for (const [feature, w] of weights) {
    const total = totals.get(feature)!;
    const stamp = stamps.get(feature)!;
    const avg = Array.from(w, (value, t) => (total[t] + (step - stamp[t]) * value) / step);
    if (avg.some((v) => Math.abs(v) >= PRUNE)) averaged[feature] = avg.map((v) => Math.round(v * 1000) / 1000);
  }
  return averaged;
}

/** Maps the median winning margin on training tokens tagged as an entity to a score of 0.8. */
function calibrate(weights: Record<string, number[]>, examples: Example[]): number {
  const probe = new NerTagger({ version: 1, tags: TAGS, weights, scale: 1, trainedOn: [] });
  const margins: number[] = [];
  for (const ex of examples.slice(0, 1500)) {
    for (const c of probe.tag(ex.row.text)) margins.push(Math.log(c.score / (1 - c.score)));
  }
  margins.sort((a, b) => a - b);
  const median = margins[Math.floor(margins.length / 2)] ?? 1;
  return Math.log(4) / Math.max(median, 1e-6);
}

const SCORED = ['PERSON', 'LOCATION'] as const;

function evaluate(tagger: NerTagger, examples: Example[], into: Map<string, Counts>): void {
  for (const ex of examples) {
    const predicted = tagger.tag(ex.row.text);
    const group = ex.row.source.startsWith('leondz') ? 'wnut' : 'presidio';
    for (const type of SCORED) {
      if (!ex.row.labeled_types.includes(type)) continue;
      const c = spanCounts(ex.row.spans, predicted, type);
      for (const key of [type, `${type}/${group}`]) into.set(key, addCounts(into.get(key) ?? { tp: 0, fp: 0, fn: 0 }, c));
    }
  }
}

function summary(counts: Map<string, Counts>): Record<string, { precision: number; recall: number; f1: number; support: number }> {
  const out: Record<string, { precision: number; recall: number; f1: number; support: number }> = {};
  for (const key of [...counts.keys()].sort()) {
    const s = prf(counts.get(key)!);
    out[key] = { precision: round(s.precision), recall: round(s.recall), f1: round(s.f1), support: s.support };
  }
  return out;
}

const round = (v: number) => Math.round(v * 10000) / 10000;

function main(): void {
  const all = readFileSync(resolve(DATA, 'eval/pii.dev.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Row);
  const rows = all.filter((r) => Object.keys(SHIPPABLE).some((prefix) => r.source.startsWith(`${prefix}:`)));
  const examples = shuffle(rows.map(toExample), mulberry32(SEED));
  console.log(`rows: ${rows.length} of ${all.length} (shippable sources only)`);

  const cv = new Map<string, Counts>();
  for (let fold = 0; fold < FOLDS; fold++) {
    const test = examples.filter((_, i) => i % FOLDS === fold);
    const trainSet = examples.filter((_, i) => i % FOLDS !== fold);
    const weights = train(trainSet, SEED + fold);
    const tagger = new NerTagger({ version: 1, tags: TAGS, weights, scale: calibrate(weights, trainSet), trainedOn: [] });
    evaluate(tagger, test, cv);
    console.log(`fold ${fold + 1}/${FOLDS} done`);
  }
  const cvSummary = summary(cv);
  console.log('5-fold cross-validated (rows never seen in training):', cvSummary);

  const weights = train(examples, SEED);
  const scale = calibrate(weights, examples);
  const trainedOn = [...new Set(rows.map((r) => r.source))].sort();
  const model: NerModelFile & { crossValidated: typeof cvSummary; licences: Record<string, string>; features: number } = {
    version: 1,
    tags: TAGS,
    scale: round(scale),
    trainedOn,
    licences: SHIPPABLE,
    crossValidated: cvSummary,
    features: Object.keys(weights).length,
    weights,
  };
  const resub = new Map<string, Counts>();
  evaluate(new NerTagger(model), examples, resub);
  console.log('whole dev set, model trained on it (optimistic):', summary(resub));
  writeFileSync(OUT, JSON.stringify(model) + '\n');
  console.log(`wrote ${OUT} (${Object.keys(weights).length} features)`);
}

main();
