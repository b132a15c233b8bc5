import { readFileSync } from 'node:fs';
import { AgentGuardError } from '../../errors.js';
import { featureHashes, hashFeature, MAX_FEATURES, newlineBetween, prepare, TAGS } from './ner-features.js';
import type { Candidate } from './recognizer.js';

/** Weights file written by scripts/train-pii-ner.ts. */
export interface NerModelFile {
  version: 1;
  tags: readonly string[];
  /** feature → one weight per tag (averaged perceptron). */
  weights: Record<string, number[]>;
  /** Score = 1 / (1 + exp(-scale * margin)), margin = best minus runner-up tag score. */
  scale: number;
  trainedOn: string[];
}

export class NerTagger {
  /** Open-addressing hash table: feature hash → row of `table` (one weight per tag). */
  private readonly keys: Int32Array;
  private readonly rows: Int32Array;
  private readonly mask: number;
  private readonly table: Float64Array;
  private readonly tags: readonly string[];
  private readonly scale: number;

  constructor(model: NerModelFile) {
    this.tags = model.tags;
    this.scale = model.scale;
    const entries = Object.entries(model.weights);
    const k = model.tags.length;
    this.table = new Float64Array(entries.length * k);
    let capacity = 1;
    while (capacity < entries.length * 2) capacity *= 2;
    this.mask = capacity - 1;
    this.keys = new Int32Array(capacity);
    this.rows = new Int32Array(capacity).fill(-1);
    entries.forEach(([feature, w], n) => {
      // Two features sharing a 32-bit hash (none in the shipped model) would add up their weights.
      const slot = this.slot(hashFeature(feature));
      if (this.rows[slot] === -1) this.rows[slot] = n * k;
      const at = this.rows[slot];
      for (let t = 0; t < k; t++) this.table[at + t] += w[t] ?? 0;
    });
  }

  /** The slot holding `hash`, or the empty slot where it would go. */
  private slot(hash: number): number {
    let i = (hash ^ (hash >>> 15)) & this.mask;
    while (this.rows[i] !== -1 && this.keys[i] !== hash) i = (i + 1) & this.mask;
    this.keys[i] = this.rows[i] === -1 ? hash : this.keys[i];
    return i;
  }

  private row(hash: number): number {
    let i = (hash ^ (hash >>> 15)) & this.mask;
    for (;;) {
      const at = this.rows[i];
      if (at === -1 || this.keys[i] === hash) return at;
      i = (i + 1) & this.mask;
    }
  }

  /** Greedy left-to-right tagging; consecutive tokens with the same tag form one span. */
  tag(text: string): Candidate[] {
    const { tokens, lower, shapes } = prepare(text);
    const { table, tags, scale } = this;
    const k = tags.length;
    const out: Candidate[] = [];
    let prev = 'O';
    let prev2 = 'O';
    const scores = new Float64Array(k);
    const hashes = new Int32Array(MAX_FEATURES);
    for (let i = 0; i < tokens.length; i++) {
      scores.fill(0);
      const count = featureHashes(tokens, lower, shapes, text, i, prev, prev2, hashes);
      for (let n = 0; n < count; n++) {
        const at = this.row(hashes[n]);
        if (at !== -1) for (let t = 0; t < k; t++) scores[t] += table[at + t];
      }
      let best = 0;
      for (let t = 1; t < k; t++) if (scores[t] > scores[best]) best = t;
      let runnerUp = -Infinity;
      for (let t = 0; t < k; t++) if (t !== best && scores[t] > runnerUp) runnerUp = scores[t];
      const tag = tags[best];
      if (tag !== 'O') {
        const score = 1 / (1 + Math.exp(-scale * (scores[best] - runnerUp)));
        const last = out[out.length - 1];
        if (prev === tag && last !== undefined && last.type === tag && !newlineBetween(text, last.end, tokens[i].start)) {
          last.end = tokens[i].end;
          last.score = Math.min(last.score, score);
        } else out.push({ type: tag, start: tokens[i].start, end: tokens[i].end, score });
      }
      prev2 = prev;
      prev = tag;
    }
    return out;
  }
}

let cached: NerTagger | undefined;

/** Loads models/pii-ner.json on first use; a missing or damaged file is an error, never "no names". */
export function loadNerTagger(): NerTagger {
  if (cached !== undefined) return cached;
  const url = new URL('../../../../models/pii-ner.json', import.meta.url);
  let model: NerModelFile;
  try {
    model = JSON.parse(readFileSync(url, 'utf8')) as NerModelFile;
  } catch (cause) {
    throw new AgentGuardError('GUARDRAIL_MODEL_MISSING', 'The pii guardrail cannot read its name/place model models/pii-ner.json', {
      actions: ['Reinstall agentguard, or rebuild the model with `npx tsx scripts/train-pii-ner.ts`.', 'Or disable PERSON and LOCATION with the `types` config.'],
      exitCode: 2,
      cause,
    });
  }
  if (model.version !== 1 || JSON.stringify(model.tags) !== JSON.stringify(TAGS) || typeof model.weights !== 'object' || !(model.scale > 0)) {
    throw new AgentGuardError('GUARDRAIL_MODEL_INVALID', 'The pii name/place model models/pii-ner.json has an unexpected format', {
      actions: ['Rebuild it with `npx tsx scripts/train-pii-ner.ts`.'],
      exitCode: 2,
    });
  }
  cached = new NerTagger(model);
  return cached;
}
