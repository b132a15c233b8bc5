import { checkDeadline } from '../budget.js';

/**
 * Hashed bag-of-n-grams features for the linear text classifiers. Word and character n-grams
 * are hashed (FNV-1a, 32 bit) into `buckets` slots; the n-gram kind and length are mixed into
 * the final hash so "ab" as a word and "ab" as characters land in different slots.
 */

export interface FeatureOptions {
  /** Word n-gram lengths, e.g. [1, 2]. */
  wordNgrams: number[];
  /** Character n-gram lengths, e.g. [3, 4, 5]. */
  charNgrams: number[];
  /** Number of hash slots; feature indices are in [0, buckets). */
  buckets: number;
  /**
   * Opt-in: character n-gram lengths counted inside runs of Chinese, Japanese and Korean characters (e.g. [1, 2]).
   * Those scripts write no spaces, so a "word" is a whole clause; their one- and two-character words need n-grams
   * shorter than the general ones. Absent: not counted (models trained without it score as before).
   */
  cjkNgrams?: number[];
}

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
const WORD = /[\p{L}\p{N}]+/gu;
const WORD_TAG = 0x100;
const CHAR_TAG = 0x200;
const CJK_TAG = 0x300;
// Han, kana, Hangul (and their compatibility and fullwidth forms): scripts written without spaces between words.
const CJK_RUN = /[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\uff66-\uff9f]+/g;
const HAS_CJK = /[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\uff66-\uff9f]/;

/**
 * Raw n-gram counts: a dense array over the buckets plus the list of touched slots. Counts are
 * float32 (exact for whole counts below 2^24): half the memory of float64, so fewer cache misses
 * on the random writes that dominate feature extraction.
 */
export class FeatureCounter {
  readonly counts: Float32Array;
  readonly touched: number[] = [];
  constructor(buckets: number) {
    this.counts = new Float32Array(buckets);
  }
  add(index: number, amount = 1): void {
    if (this.counts[index] === 0) this.touched.push(index);
    this.counts[index] += amount;
  }
  /** Adds every count of `other` (same bucket size) to this one. */
  addAll(other: FeatureCounter): void {
    for (const index of other.touched) this.add(index, other.counts[index]);
  }
  reset(): void {
    for (const index of this.touched) this.counts[index] = 0;
    this.touched.length = 0;
  }
}

const counters = new Map<number, FeatureCounter>();
function counterFor(buckets: number): FeatureCounter {
  let counter = counters.get(buckets);
  if (!counter) {
    counter = new FeatureCounter(buckets);
    counters.set(buckets, counter);
  }
  return counter;
}

function slot(hash: number, tag: number, buckets: number): number {
  const h = Math.imul(hash ^ tag, FNV_PRIME) >>> 0;
  // Power-of-two bucket counts (the usual case) take the cheap mask; same result as the modulo.
  return (buckets & (buckets - 1)) === 0 ? h & (buckets - 1) : h % buckets;
}

const MAX_CHAR_NGRAM = 16;
/** The decision's guardrail deadline is checked once per this many characters. */
const DEADLINE_BLOCK = 65536;

const NON_ASCII = /[^\x00-\x7F]/;
// Reused between calls: the hash of every word of the text being counted.
let wordHashes = new Int32Array(1024);

function isAsciiWordChar(code: number): boolean {
  return (code >= 97 && code <= 122) || (code >= 48 && code <= 57) || (code >= 65 && code <= 90);
}

/** FNV-1a of every word ([\p{L}\p{N}]+) into `wordHashes`; returns the number of words. */
function hashWords(text: string): number {
  let n = 0;
  const push = (h: number) => {
    if (n === wordHashes.length) {
      const grown = new Int32Array(n * 2);
      grown.set(wordHashes);
      wordHashes = grown;
    }
    wordHashes[n++] = h;
  };
  if (NON_ASCII.test(text)) {
    for (const word of text.match(WORD) ?? []) {
      let h = FNV_OFFSET;
      for (let c = 0; c < word.length; c++) h = Math.imul(h ^ word.charCodeAt(c), FNV_PRIME);
      push(h);
    }
    return n;
  }
  // ASCII text (the usual case): the same words as the regular expression, without building their strings.
  let h = FNV_OFFSET;
  let inWord = false;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (isAsciiWordChar(code)) {
      h = Math.imul(h ^ code, FNV_PRIME);
      inWord = true;
    } else if (inWord) {
      push(h);
      h = FNV_OFFSET;
      inWord = false;
    }
  }
  if (inWord) push(h);
  return n;
}

function countWords(text: string, sizes: readonly number[], buckets: number, counter: FeatureCounter): void {
  const count = hashWords(text);
  const hashes = wordHashes;
  for (const n of sizes) {
    if (n < 1) continue;
    for (let i = 0; i + n <= count; i++) {
      let h = hashes[i];
      for (let k = 1; k < n; k++) h = Math.imul(Math.imul(h, 31) ^ hashes[i + k], FNV_PRIME);
      counter.add(slot(h, WORD_TAG + n, buckets));
    }
  }
}

function countChars(text: string, sizes: readonly number[], buckets: number, counter: FeatureCounter): void {
  let longest = 0;
  const wanted = new Uint8Array(MAX_CHAR_NGRAM + 1);
  for (const n of sizes) {
    if (n < 1 || n > MAX_CHAR_NGRAM) continue;
    wanted[n] = 1;
    longest = Math.max(longest, n);
  }
  if (longest === 0) return;
  if ((buckets & (buckets - 1)) === 0 && longest === 5 && sizes.length === 3 && wanted[3] === 1 && wanted[4] === 1) {
    countChars345(text, buckets - 1, counter);
    return;
  }
  const mask = (buckets & (buckets - 1)) === 0 ? buckets - 1 : -1;
  // Pad with spaces so word starts and ends become their own n-grams.
  const padded = ` ${text} `;
  const length = padded.length;
  for (let i = 0; i < length; i++) {
    if (i % DEADLINE_BLOCK === 0) checkDeadline();
    let h = FNV_OFFSET;
    const end = Math.min(length, i + longest);
    for (let j = i; j < end; j++) {
      h = Math.imul(h ^ padded.charCodeAt(j), FNV_PRIME);
      const n = j - i + 1;
      if (wanted[n] === 0) continue;
      // Inlined `slot`: this loop runs several times per character of every scored text.
      const mixed = Math.imul(h ^ (CHAR_TAG + n), FNV_PRIME) >>> 0;
      counter.add(mask >= 0 ? mixed & mask : mixed % buckets);
    }
  }
}

/**
 * The shipped models' character n-grams (3, 4 and 5 over a power-of-two table), unrolled: the same counts as the
 * general loop above (a property test compares them), measured a fifth faster; this loop is most of the cost of
 * counting a text's features.
 */
function countChars345(text: string, mask: number, counter: FeatureCounter): void {
  const padded = ` ${text} `;
  const length = padded.length;
  const { counts, touched } = counter;
  const TAG3 = CHAR_TAG + 3;
  const TAG4 = CHAR_TAG + 4;
  const TAG5 = CHAR_TAG + 5;
  // The deadline is checked once per block of characters, in an outer loop: a branch inside the hot loop that short
  // texts never take made V8 drop its optimised code on the first long text (ten times slower).
  for (let block = 0; block + 3 <= length; block += DEADLINE_BLOCK) {
    checkDeadline();
    const blockEnd = Math.min(length, block + DEADLINE_BLOCK + 2);
    for (let i = block; i + 3 <= blockEnd; i++) {
      let h = Math.imul(FNV_OFFSET ^ padded.charCodeAt(i), FNV_PRIME);
      h = Math.imul(h ^ padded.charCodeAt(i + 1), FNV_PRIME);
      h = Math.imul(h ^ padded.charCodeAt(i + 2), FNV_PRIME);
      let index = (Math.imul(h ^ TAG3, FNV_PRIME) >>> 0) & mask;
      if (counts[index] === 0) touched.push(index);
      counts[index] += 1;
      if (i + 4 > length) continue;
      h = Math.imul(h ^ padded.charCodeAt(i + 3), FNV_PRIME);
      index = (Math.imul(h ^ TAG4, FNV_PRIME) >>> 0) & mask;
      if (counts[index] === 0) touched.push(index);
      counts[index] += 1;
      if (i + 5 > length) continue;
      h = Math.imul(h ^ padded.charCodeAt(i + 4), FNV_PRIME);
      index = (Math.imul(h ^ TAG5, FNV_PRIME) >>> 0) & mask;
      if (counts[index] === 0) touched.push(index);
      counts[index] += 1;
    }
  }
}

/** Character n-grams of the given lengths inside each run of CJK characters (no padding: runs are not words). */
function countCjk(text: string, sizes: readonly number[], buckets: number, counter: FeatureCounter): void {
  if (!HAS_CJK.test(text)) return;
  for (const match of text.matchAll(CJK_RUN)) {
    const run = match[0];
    for (const n of sizes) {
      if (n < 1 || n > MAX_CHAR_NGRAM) continue;
      for (let i = 0; i + n <= run.length; i++) {
        let h = FNV_OFFSET;
        for (let j = i; j < i + n; j++) h = Math.imul(h ^ run.charCodeAt(j), FNV_PRIME);
        counter.add(slot(h, CJK_TAG + n, buckets));
      }
    }
  }
}

/** Adds the raw n-gram counts of `text` (already normalised) to `counter`. */
export function countFeatures(text: string, options: FeatureOptions, counter: FeatureCounter): void {
  countWords(text, options.wordNgrams, options.buckets, counter);
  countChars(text, options.charNgrams, options.buckets, counter);
  if (options.cjkNgrams !== undefined && options.cjkNgrams.length > 0) countCjk(text, options.cjkNgrams, options.buckets, counter);
}

/**
 * Visits the feature vector of `counter`: each touched index with its weight, sub-linear term
 * frequency (1 + ln count), L2-normalised. Leaves the counts unchanged.
 */
export function visitFeatures(counter: FeatureCounter, visit: (index: number, weight: number) => void): void {
  const { counts, touched } = counter;
  let norm = 0;
  for (const index of touched) {
    const count = counts[index];
    const weight = count === 1 ? 1 : 1 + Math.log(count);
    norm += weight * weight;
  }
  if (norm === 0) return;
  const scale = 1 / Math.sqrt(norm);
  for (const index of touched) {
    const count = counts[index];
    visit(index, (count === 1 ? 1 : 1 + Math.log(count)) * scale);
  }
}

/** Visits the features of `text` (already normalised) without allocating a map. */
export function forEachFeature(text: string, options: FeatureOptions, visit: (index: number, weight: number) => void): void {
  const counter = counterFor(options.buckets);
  try {
    countFeatures(text, options, counter);
    visitFeatures(counter, visit);
  } finally {
    counter.reset();
  }
}

/** Features of `text` (already normalised): hashed index -> weight, L2-normalised. */
export function extractFeatures(text: string, options: FeatureOptions): Map<number, number> {
  const out = new Map<number, number>();
  forEachFeature(text, options, (index, weight) => out.set(index, weight));
  return out;
}

/**
 * Features of a text split into `parts`: the n-grams of every part pooled (n-grams spanning two
 * parts are not counted). Matches what `LinearModel.scoresOfParts` scores as the whole text.
 */
export function extractPooledFeatures(parts: readonly string[], options: FeatureOptions): Map<number, number> {
  const counter = new FeatureCounter(options.buckets);
  for (const part of parts) countFeatures(part, options, counter);
  const out = new Map<number, number>();
  visitFeatures(counter, (index, weight) => out.set(index, weight));
  return out;
}
