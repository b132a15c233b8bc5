/** Tokens and features of the PERSON/LOCATION tagger; shared by the runtime and scripts/train-pii-ner.ts. */

export interface Token {
  start: number;
  end: number;
  text: string;
}

const TOKEN = /[\p{L}\p{M}\p{N}]+(?:['’][\p{L}]+)*|\S/gu;

export function tokenize(text: string): Token[] {
  const out: Token[] = [];
  TOKEN.lastIndex = 0;
  for (let m = TOKEN.exec(text); m !== null; m = TOKEN.exec(text)) out.push({ start: m.index, end: m.index + m[0].length, text: m[0] });
  return out;
}

/** The tags the tagger chooses from; ORGANIZATION is learnt so organisations stop looking like people or places. */
export const TAGS = ['O', 'PERSON', 'LOCATION', 'ORGANIZATION'] as const;

/** Word shape with runs collapsed: "McDonald" → "XxXx", "2020" → "d", "e-mail" → "x-x". */
export function shape(word: string): string {
  let out = '';
  let last = '';
  for (const ch of word) {
    const code = ch.charCodeAt(0);
    let s: string;
    // ASCII fast path; the Unicode property tests are slow enough to matter per token.
    if (code >= 65 && code <= 90) s = 'X';
    else if (code >= 97 && code <= 122) s = 'x';
    else if (code >= 48 && code <= 57) s = 'd';
    else if (code < 128) s = ch;
    else s = UPPER.test(ch) ? 'X' : LOWER.test(ch) ? 'x' : NUMBER.test(ch) ? 'd' : ch;
    if (s !== last) {
      out += s;
      last = s;
      if (out.length === 6) break;
    }
  }
  return out;
}

const UPPER = /\p{Lu}/u;
const LOWER = /\p{Ll}/u;
const NUMBER = /\p{N}/u;

const SENTENCE_END = new Set(['.', '!', '?', ':', ';', '"', '\n']);

/** Tags already chosen for earlier tokens feed the features of later ones (greedy left to right). */
export function features(tokens: readonly Token[], lower: readonly string[], shapes: readonly string[], text: string, i: number, prevTag: string, prev2Tag: string): string[] {
  const w = lower[i];
  const sh = shapes[i];
  const p1 = i > 0 ? lower[i - 1] : '<s>';
  const p2 = i > 1 ? lower[i - 2] : '<s>';
  const n1 = i + 1 < tokens.length ? lower[i + 1] : '</s>';
  const n2 = i + 2 < tokens.length ? lower[i + 2] : '</s>';
  const ps = i > 0 ? shapes[i - 1] : '<s>';
  const ns = i + 1 < tokens.length ? shapes[i + 1] : '</s>';
  const lineStart = i === 0 || SENTENCE_END.has(tokens[i - 1].text) || newlineBetween(text, tokens[i - 1].end, tokens[i].start);
  const f = [
    'b',
    `w=${w}`,
    `s=${sh}`,
    `s3=${w.slice(-3)}`,
    `s2=${w.slice(-2)}`,
    `p3=${w.slice(0, 3)}`,
    `p1=${p1}`,
    `p2=${p2}`,
    `n1=${n1}`,
    `n2=${n2}`,
    `ps=${ps}`,
    `ns=${ns}`,
    `t1=${prevTag}`,
    `t12=${prev2Tag}|${prevTag}`,
    `t1s=${prevTag}|${sh}`,
    `p1w=${p1}|${w}`,
    `wn1=${w}|${n1}`,
    `ls=${lineStart ? 1 : 0}|${sh}`,
    `len=${Math.min(w.length, 10)}`,
  ];
  if (i > 0 && tokens[i - 1].text === '@' && tokens[i - 1].end === tokens[i].start) f.push('at');
  if (i > 0 && tokens[i - 1].text === '#') f.push('hash');
  return f;
}

export function newlineBetween(text: string, from: number, to: number): boolean {
  const at = text.indexOf('\n', from);
  return at !== -1 && at < to;
}

export interface Prepared {
  tokens: Token[];
  lower: string[];
  shapes: string[];
}

export function prepare(text: string): Prepared {
  const tokens = tokenize(text);
  return { tokens, lower: tokens.map((t) => t.text.toLowerCase()), shapes: tokens.map((t) => shape(t.text)) };
}

/*
 * Hashed features for the runtime: the same features as `features()`, hashed with 32-bit FNV-1a
 * while streaming their parts, so tagging builds no strings. `hashFeature(features()[n])` equals
 * `featureHashes()[n]` (a test checks it); the model file keeps readable feature strings.
 */
const FNV_OFFSET = 0x811c9dc5 | 0;
const FNV_PRIME = 16777619;

function streamRange(h: number, s: string, from: number, to: number): number {
  for (let i = from; i < to; i++) h = Math.imul(h ^ s.charCodeAt(i), FNV_PRIME);
  return h;
}

const stream = (h: number, s: string): number => streamRange(h, s, 0, s.length);

export function hashFeature(feature: string): number {
  return stream(FNV_OFFSET, feature);
}

const PREFIX = Object.fromEntries(
  ['w=', 's=', 's3=', 's2=', 'p3=', 'p1=', 'p2=', 'n1=', 'n2=', 'ps=', 'ns=', 't1=', 't12=', 't1s=', 'p1w=', 'wn1=', 'ls=0|', 'ls=1|', 'len='].map((p) => [p, stream(FNV_OFFSET, p)]),
) as Record<string, number>;
const BIAS = hashFeature('b');
const LEN = Array.from({ length: 11 }, (_, n) => hashFeature(`len=${n}`));
const barOf = (h: number): number => Math.imul(h ^ 124, FNV_PRIME); // '|'
const AT = hashFeature('at');
const HASH = hashFeature('hash');

/** Writes the hashes of `features(...)` for token i into `out`; returns how many. */
export function featureHashes(tokens: readonly Token[], lower: readonly string[], shapes: readonly string[], text: string, i: number, prevTag: string, prev2Tag: string, out: Int32Array): number {
  const w = lower[i];
  const sh = shapes[i];
  const p1 = i > 0 ? lower[i - 1] : '<s>';
  const p2 = i > 1 ? lower[i - 2] : '<s>';
  const n1 = i + 1 < tokens.length ? lower[i + 1] : '</s>';
  const n2 = i + 2 < tokens.length ? lower[i + 2] : '</s>';
  const ps = i > 0 ? shapes[i - 1] : '<s>';
  const ns = i + 1 < tokens.length ? shapes[i + 1] : '</s>';
  const lineStart = i === 0 || SENTENCE_END.has(tokens[i - 1].text) || newlineBetween(text, tokens[i - 1].end, tokens[i].start);
  const len = w.length;
  let n = 0;
  out[n++] = BIAS;
  out[n++] = stream(PREFIX['w='], w);
  out[n++] = stream(PREFIX['s='], sh);
  out[n++] = streamRange(PREFIX['s3='], w, Math.max(0, len - 3), len);
  out[n++] = streamRange(PREFIX['s2='], w, Math.max(0, len - 2), len);
  out[n++] = streamRange(PREFIX['p3='], w, 0, Math.min(3, len));
  out[n++] = stream(PREFIX['p1='], p1);
  out[n++] = stream(PREFIX['p2='], p2);
  out[n++] = stream(PREFIX['n1='], n1);
  out[n++] = stream(PREFIX['n2='], n2);
  out[n++] = stream(PREFIX['ps='], ps);
  out[n++] = stream(PREFIX['ns='], ns);
  out[n++] = stream(PREFIX['t1='], prevTag);
  out[n++] = stream(barOf(stream(PREFIX['t12='], prev2Tag)), prevTag);
  out[n++] = stream(barOf(stream(PREFIX['t1s='], prevTag)), sh);
  out[n++] = stream(barOf(stream(PREFIX['p1w='], p1)), w);
  out[n++] = stream(barOf(stream(PREFIX['wn1='], w)), n1);
  out[n++] = stream(lineStart ? PREFIX['ls=1|'] : PREFIX['ls=0|'], sh);
  out[n++] = LEN[Math.min(len, 10)];
  if (i > 0 && tokens[i - 1].text === '@' && tokens[i - 1].end === tokens[i].start) out[n++] = AT;
  if (i > 0 && tokens[i - 1].text === '#') out[n++] = HASH;
  return n;
}

/** Upper bound of features per token. */
export const MAX_FEATURES = 21;
