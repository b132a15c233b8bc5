import { readFileSync } from 'node:fs';
import { AgentGuardError } from '../../errors.js';
import { checkDeadline } from '../budget.js';
import { HashedText, hashFeature, MAX_FEATURES, newlineBetween, TAG_FEATURES, TAG_FEATURES_AT, TAGS, TagHashes } from './ner-features.js';
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

/** Weights per table slot: one per tag, at most 4 (TAGS has 4), so a slot's weights share one cache line. */
const SLOT = 4;

/**
 * Open-addressing hash table from feature hash to that feature's weights, laid out for the lookup:
 * probing reads only the compact `keys` (0 marks an empty slot), and the weights are stored by
 * slot, `SLOT` apiece (a model with fewer tags leaves the rest 0), so a hit reads one cache line.
 * An empty slot's weights stay 0, so a feature the model lacks finds zeros, which the caller adds
 * without a branch: scores start at +0 and no stored weight is -0, so adding +0 changes no score.
 * The one feature whose hash is 0, if the model has it, lives in the extra slot `capacity`, which
 * probing never reaches.
 */
class WeightTable {
  private readonly keys: Int32Array;
  readonly weights: Float64Array;
  private readonly mask: number;
  private readonly zeroAt: number;

  constructor(model: Record<string, number[]>, k: number) {
    if (k > SLOT) throw new Error(`The name/place tagger supports at most ${SLOT} tags, not ${k}`);
    const entries = Object.entries(model);
    let capacity = 1;
    while (capacity < entries.length * 2) capacity *= 2;
    this.mask = capacity - 1;
    this.keys = new Int32Array(capacity);
    this.weights = new Float64Array((capacity + 1) * SLOT);
    this.zeroAt = capacity * SLOT;
    for (const [feature, w] of entries) {
      const hash = hashFeature(feature);
      const at = this.find(hash);
      if (hash !== 0) this.keys[at / SLOT] = hash;
      // Two features sharing a 32-bit hash (none in the shipped model) add up their weights;
      // 0 + w is never -0.
      for (let t = 0; t < k; t++) this.weights[at + t] += w[t] ?? 0;
    }
  }

  /** Offset in `weights` of the feature's k weights; all zero when the model does not have it. */
  find(hash: number): number {
    if (hash === 0) return this.zeroAt;
    const { keys, mask } = this;
    let i = (hash ^ (hash >>> 15)) & mask;
    for (;;) {
      const key = keys[i];
      // One branch, not two: hit or miss on the first probe is unpredictable, stopping there is not.
      if ((+(key === hash) | +(key === 0)) !== 0) return i * SLOT;
      i = (i + 1) & mask;
    }
  }

  /** scores += the weights at `at` (unrolled: a loop over the tags measured twice as slow). */
  add(scores: Float64Array, at: number): void {
    const weights = this.weights;
    scores[0] += weights[at];
    scores[1] += weights[at + 1];
    scores[2] += weights[at + 2];
    scores[3] += weights[at + 3];
  }
}

export class NerTagger {
  private readonly table: WeightTable;
  private readonly tags: readonly string[];
  private readonly scale: number;
  /** Tag features by tag number: the model's tags, plus 'O' (the tag before the text) if it lacks one. */
  private readonly tagHashes: TagHashes;
  private readonly startTag: number;
  // Scratch reused by every `tag` call (tagging is synchronous, so calls never overlap), grown as needed.
  private readonly text = new HashedText();
  private readonly hashes = new Int32Array(MAX_FEATURES);
  private readonly scores: Float64Array;
  /** Per token: the sum of the weights of its features before the tag features, `SLOT` values. */
  private head = new Float64Array(0);
  /** Per token: weight offsets of its features after the tag features, `TAIL` slots. */
  private tail = new Int32Array(0);
  private tailCount = new Uint8Array(0);

  constructor(model: NerModelFile) {
    this.tags = model.tags;
    this.scale = model.scale;
    this.table = new WeightTable(model.weights, model.tags.length);
    this.scores = new Float64Array(SLOT);
    const names = model.tags.includes('O') ? model.tags : [...model.tags, 'O'];
    this.tagHashes = new TagHashes(names);
    this.startTag = names.indexOf('O');
  }

  /** Greedy left-to-right tagging; consecutive tokens with the same tag form one span. */
  tag(text: string): Candidate[] {
    const doc = this.text;
    doc.load(text);
    this.scoreText(doc);
    const { start, end } = doc.spans;
    const { tags, scale, scores } = this;
    const names = this.tagHashes.names;
    const out: Candidate[] = [];
    let prev = this.startTag;
    let prev2 = this.startTag;
    for (let i = 0; i < doc.count; i++) {
      if (i % DEADLINE_EVERY === 0) checkDeadline();
      this.scoreToken(doc, i, prev, prev2);
      const best = argmax(scores, tags.length);
      let runnerUp = -Infinity;
      for (let t = 0; t < tags.length; t++) if (t !== best && scores[t] > runnerUp) runnerUp = scores[t];
      const tag = tags[best];
      if (tag !== 'O') {
        const score = 1 / (1 + Math.exp(-scale * (scores[best] - runnerUp)));
        const last = out[out.length - 1];
        if (names[prev] === tag && last !== undefined && last.type === tag && !newlineBetween(text, last.end, start[i])) {
          last.end = end[i];
          last.score = Math.min(last.score, score);
        } else out.push({ type: tag, start: start[i], end: end[i], score });
      }
      prev2 = prev;
      prev = best;
    }
    doc.text = ''; // keep no prompt alive in the cached tagger
    return out;
  }

  /**
   * Looks up every feature that does not depend on the tags, for all tokens at once (a loop with no
   * dependence on earlier tags, so the CPU overlaps the table's cache misses). The features before
   * the tag features are summed here already: scores add up in feature order, and the sum of a
   * prefix is the same whenever it is taken, so the float results are unchanged.
   */
  private scoreText(doc: HashedText): void {
    const { hashes, table, scores } = this;
    const count = doc.count;
    if (this.tailCount.length < count) {
      const size = Math.max(count, 2 * this.tailCount.length);
      this.head = new Float64Array(size * SLOT);
      this.tail = new Int32Array(size * TAIL);
      this.tailCount = new Uint8Array(size);
    }
    const { head, tail, tailCount } = this;
    for (let i = 0; i < count; i++) {
      if (i % DEADLINE_EVERY === 0) checkDeadline();
      // The tag features are hashed here too, for nothing; `scoreToken` hashes them for real.
      const n = doc.hashes(i, this.startTag, this.startTag, this.tagHashes, hashes);
      for (let t = 0; t < SLOT; t++) scores[t] = 0;
      for (let f = 0; f < TAG_FEATURES_AT; f++) table.add(scores, table.find(hashes[f]));
      for (let t = 0; t < SLOT; t++) head[i * SLOT + t] = scores[t];
      const after = TAG_FEATURES_AT + TAG_FEATURES;
      for (let f = after; f < n; f++) tail[i * TAIL + f - after] = table.find(hashes[f]);
      tailCount[i] = n - after;
    }
  }

  /** Token i's scores: its head sum, then the tag features, then the rest, in feature order (float sums depend on it). */
  private scoreToken(doc: HashedText, i: number, prev: number, prev2: number): void {
    const { scores, hashes, table, head, tail } = this;
    for (let t = 0; t < SLOT; t++) scores[t] = head[i * SLOT + t];
    doc.tagHashes(i, prev, prev2, this.tagHashes, hashes, 0);
    for (let f = 0; f < TAG_FEATURES; f++) table.add(scores, table.find(hashes[f]));
    for (let f = 0; f < this.tailCount[i]; f++) table.add(scores, tail[i * TAIL + f]);
  }
}

/**
 * The deadline is checked once per this many tokens, from the first one on: a check that short texts never reach made
 * V8 drop the loop's optimised code on the first long text.
 */
const DEADLINE_EVERY = 8192;

/** Most features a token has after its tag features. */
const TAIL = MAX_FEATURES - TAG_FEATURES_AT - TAG_FEATURES;

/** First index of the largest of xs[0 .. k). */
function argmax(xs: Float64Array, k: number): number {
  let best = 0;
  for (let t = 1; t < k; t++) if (xs[t] > xs[best]) best = t;
  return best;
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
      cause,
    });
  }
  if (model.version !== 1 || JSON.stringify(model.tags) !== JSON.stringify(TAGS) || typeof model.weights !== 'object' || !(model.scale > 0)) {
    throw new AgentGuardError('GUARDRAIL_MODEL_INVALID', 'The pii name/place model models/pii-ner.json has an unexpected format', {
      actions: ['Rebuild it with `npx tsx scripts/train-pii-ner.ts`.'],
    });
  }
  cached = new NerTagger(model);
  return cached;
}
