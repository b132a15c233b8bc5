/** Tokens and features of the PERSON/LOCATION tagger; shared by the runtime and scripts/train-pii-ner.ts. */

export interface Token {
  start: number;
  end: number;
  text: string;
}

/** What a token is. `scanTokens` follows it by hand for ASCII text and asks it for everything else. */
const TOKEN = /[\p{L}\p{M}\p{N}]+(?:['’][\p{L}]+)*|\S/gu;

/** Token bounds in reusable arrays, grown as needed (the runtime tags every prompt with one of these). */
export class TokenSpans {
  count = 0;
  start = new Int32Array(64);
  end = new Int32Array(64);
  /** 1 where the token contains or touches non-ASCII text (its lowercase and shape need the general code). */
  general = new Uint8Array(64);

  push(start: number, end: number, general: number): void {
    if (this.count === this.start.length) {
      this.start = grow(this.start);
      this.end = grow(this.end);
      this.general = grow(this.general);
    }
    this.start[this.count] = start;
    this.end[this.count] = end;
    this.general[this.count] = general;
    this.count++;
  }
}

function grow<T extends Int32Array | Uint8Array>(a: T): T {
  const bigger = new (a.constructor as new (n: number) => T)(a.length * 2);
  bigger.set(a);
  return bigger;
}

const isAsciiLetter = (c: number): boolean => ((c | 32) - 97) >>> 0 < 26;
const isAsciiDigit = (c: number): boolean => (c - 48) >>> 0 < 10;
/** The ASCII part of `\s`: tab, line feed, vertical tab, form feed, carriage return, space. */
const isAsciiSpace = (c: number): boolean => c === 32 || (c - 9) >>> 0 < 5;

/**
 * Finds the tokens of `text` exactly as `TOKEN` does. Whitespace, ASCII punctuation and ASCII words
 * are handled by hand; a token that starts at or touches a non-ASCII character is matched by `TOKEN`
 * itself, from where the hand-written scan stood (so the regex still decides every Unicode case).
 */
export function scanTokens(text: string, into: TokenSpans): void {
  into.count = 0;
  const n = text.length;
  let p = 0;
  while (p < n) {
    const c = text.charCodeAt(p);
    if (isAsciiSpace(c)) {
      p++;
      continue;
    }
    if (c < 128 && !isAsciiLetter(c) && !isAsciiDigit(c)) {
      into.push(p, p + 1, 0); // `\S`
      p++;
      continue;
    }
    const end = c < 128 ? asciiWordEnd(text, p) : -1;
    if (end !== -1) {
      into.push(p, end, 0);
      p = end;
      continue;
    }
    TOKEN.lastIndex = p;
    const m = TOKEN.exec(text);
    if (m === null) break; // only (Unicode) whitespace was left
    p = m.index + m[0].length;
    into.push(m.index, p, 1);
  }
}

/** End of the ASCII word starting at `p`, or -1 when a non-ASCII character could extend or end it. */
function asciiWordEnd(text: string, p: number): number {
  const n = text.length;
  let q = p + 1;
  let c = 0;
  while (q < n && (isAsciiLetter((c = text.charCodeAt(q))) || isAsciiDigit(c))) q++;
  // Apostrophe groups: `'` then letters only (`’` is not ASCII, so it takes the general path).
  for (;;) {
    if (q === n) return q;
    c = text.charCodeAt(q);
    if (c >= 128) return -1;
    if (c !== 39 || q + 1 === n) return q;
    const after = text.charCodeAt(q + 1);
    if (after >= 128) return -1;
    if (!isAsciiLetter(after)) return q;
    q += 2;
    while (q < n && isAsciiLetter((c = text.charCodeAt(q)))) q++;
  }
}

export function tokenize(text: string): Token[] {
  const spans = new TokenSpans();
  scanTokens(text, spans);
  const out: Token[] = [];
  for (let j = 0; j < spans.count; j++) out.push({ start: spans.start[j], end: spans.end[j], text: text.slice(spans.start[j], spans.end[j]) });
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

/** `shape(c)` of one ASCII character, as a char code. */
function asciiShapeCode(c: number): number {
  if (c >= 65 && c <= 90) return 88; // 'X'
  if (c >= 97 && c <= 122) return 120; // 'x'
  if (c >= 48 && c <= 57) return 100; // 'd'
  return c;
}

const SENTENCE_END = new Set(['.', '!', '?', ':', ';', '"', '\n']);
const SENTENCE_END_CODES = new Set([...SENTENCE_END].map((s) => s.charCodeAt(0)));

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

/** Whether text[from, to) holds a line feed. Tokens are close together, so this scans only the gap. */
export function newlineBetween(text: string, from: number, to: number): boolean {
  for (let j = from; j < to; j++) if (text.charCodeAt(j) === 10) return true;
  return false;
}

export interface Prepared {
  tokens: Token[];
  lower: string[];
  shapes: string[];
}

export function prepare(text: string): Prepared {
  const spans = new TokenSpans();
  scanTokens(text, spans);
  const tokens: Token[] = [];
  const lower: string[] = [];
  const shapes: string[] = [];
  for (let j = 0; j < spans.count; j++) {
    const word = text.slice(spans.start[j], spans.end[j]);
    tokens.push({ start: spans.start[j], end: spans.end[j], text: word });
    lower.push(word.toLowerCase());
    shapes.push(shape(word));
  }
  return { tokens, lower, shapes };
}

/*
 * Hashed features for the runtime: the same features as `features()`, hashed with 32-bit FNV-1a
 * while streaming their parts, so tagging builds no strings. `hashFeature(features()[n])` equals
 * `featureHashes()[n]` and `HashedText.hashes()[n]` (tests check both); the model file keeps
 * readable feature strings.
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

/** FNV state after a feature's fixed prefix, e.g. `P_W` has hashed "w=". */
const P_W = hashFeature('w=');
const P_S = hashFeature('s=');
const P_S3 = hashFeature('s3=');
const P_S2 = hashFeature('s2=');
const P_P3 = hashFeature('p3=');
const P_P1 = hashFeature('p1=');
const P_P2 = hashFeature('p2=');
const P_N1 = hashFeature('n1=');
const P_N2 = hashFeature('n2=');
const P_PS = hashFeature('ps=');
const P_NS = hashFeature('ns=');
const P_T1 = hashFeature('t1=');
const P_T12 = hashFeature('t12=');
const P_T1S = hashFeature('t1s=');
const P_P1W = hashFeature('p1w=');
const P_WN1 = hashFeature('wn1=');
const P_LS0 = hashFeature('ls=0|');
const P_LS1 = hashFeature('ls=1|');
const BIAS = hashFeature('b');
const LEN = Array.from({ length: 11 }, (_, n) => hashFeature(`len=${n}`));
const barOf = (h: number): number => Math.imul(h ^ 124, FNV_PRIME); // '|'
const AT = hashFeature('at');
const HASH = hashFeature('hash');
// Features of the sentence boundaries, whose "words" are the markers <s> and </s>.
const P1_BOS = hashFeature('p1=<s>');
const P2_BOS = hashFeature('p2=<s>');
const N1_EOS = hashFeature('n1=</s>');
const N2_EOS = hashFeature('n2=</s>');
const PS_BOS = hashFeature('ps=<s>');
const NS_EOS = hashFeature('ns=</s>');
const P1W_BOS = barOf(hashFeature('p1w=<s>'));

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
  out[n++] = stream(P_W, w);
  out[n++] = stream(P_S, sh);
  out[n++] = streamRange(P_S3, w, Math.max(0, len - 3), len);
  out[n++] = streamRange(P_S2, w, Math.max(0, len - 2), len);
  out[n++] = streamRange(P_P3, w, 0, Math.min(3, len));
  out[n++] = stream(P_P1, p1);
  out[n++] = stream(P_P2, p2);
  out[n++] = stream(P_N1, n1);
  out[n++] = stream(P_N2, n2);
  out[n++] = stream(P_PS, ps);
  out[n++] = stream(P_NS, ns);
  out[n++] = stream(P_T1, prevTag);
  out[n++] = stream(barOf(stream(P_T12, prev2Tag)), prevTag);
  out[n++] = stream(barOf(stream(P_T1S, prevTag)), sh);
  out[n++] = stream(barOf(stream(P_P1W, p1)), w);
  out[n++] = stream(barOf(stream(P_WN1, w)), n1);
  out[n++] = stream(lineStart ? P_LS1 : P_LS0, sh);
  out[n++] = LEN[Math.min(len, 10)];
  if (i > 0 && tokens[i - 1].text === '@' && tokens[i - 1].end === tokens[i].start) out[n++] = AT;
  if (i > 0 && tokens[i - 1].text === '#') out[n++] = HASH;
  return n;
}

/** Upper bound of features per token. */
export const MAX_FEATURES = 21;
/** Features TAG_FEATURES_AT … + TAG_FEATURES - 1 (t1, t12, t1s) depend on the tags chosen; the others only on the text. */
export const TAG_FEATURES_AT = 12;
export const TAG_FEATURES = 3;

/** The tag features' hashes for a fixed list of tag names, indexed by tag number. */
export class TagHashes {
  readonly t1: Int32Array;
  /** t12[prev2 * names.length + prev] */
  readonly t12: Int32Array;
  /** State after "t1s=<tag>|"; the shape follows. */
  readonly t1s: Int32Array;

  constructor(readonly names: readonly string[]) {
    const m = names.length;
    this.t1 = Int32Array.from(names, (t) => stream(P_T1, t));
    this.t1s = Int32Array.from(names, (t) => barOf(stream(P_T1S, t)));
    this.t12 = new Int32Array(m * m);
    for (let a = 0; a < m; a++) for (let b = 0; b < m; b++) this.t12[a * m + b] = stream(barOf(stream(P_T12, names[a])), names[b]);
  }
}

/** FNV over s[from, to) with A–Z folded to a–z: the hash of `s.slice(from, to).toLowerCase()` for ASCII s. */
function streamFolded(h: number, s: string, from: number, to: number): number {
  for (let i = from; i < to; i++) {
    let c = s.charCodeAt(i);
    if ((c - 65) >>> 0 < 26) c += 32;
    h = Math.imul(h ^ c, FNV_PRIME);
  }
  return h;
}

function streamCodes(h: number, codes: Int32Array, from: number, to: number): number {
  for (let i = from; i < to; i++) h = Math.imul(h ^ codes[i], FNV_PRIME);
  return h;
}

// Tag-independent hashes that `HashedText.load` computes per token, at these offsets of its row.
const W = 0; // "w=<word>"
const S = 1; // "s=<shape>"
const S3 = 2;
const S2 = 3;
const P3 = 4;
const AS_P1 = 5; // "p1=<word>", used by the next token
const AS_P2 = 6; // "p2=<word>", used two tokens on
const AS_N1 = 7; // "n1=<word>", used by the token before
const AS_N2 = 8;
const AS_PS = 9; // "ps=<shape>", used by the next token
const AS_NS = 10; // "ns=<shape>", used by the token before
const P1W = 11; // "p1w=<previous word>|<word>"
const WN1 = 12; // "wn1=<word>|<next word>"
const LS = 13; // "ls=<0 or 1>|<shape>"
const PER_TOKEN = 14;

/**
 * One text prepared for `hashes()`, the runtime twin of `prepare` + `featureHashes`. `load` hashes
 * every feature that does not depend on the tags chosen, streaming each word once for all the
 * features that contain it (independent FNV chains in one loop run side by side on the CPU instead
 * of one after another). Everything lives in reusable typed arrays, so tagging a prompt allocates
 * (almost) nothing; reuse one instance for many texts, `load` replaces the previous text.
 */
export class HashedText {
  text = '';
  readonly spans = new TokenSpans();
  /** Row j (`PER_TOKEN` hashes) holds token j's tag-independent features, see `W`… above. */
  private perToken = new Int32Array(64 * PER_TOKEN);
  /** Length of token j's lowercase word. */
  private wordLength = new Int32Array(64);
  // FNV states of "p1w=<previous word>|" and "wn1=<previous word>|", which the next word continues.
  private p1wBefore = 0;
  private wn1Before = 0;
  /** Shape of token j: char codes `shapeCodes[shapeFrom[j] .. shapeFrom[j + 1])`. */
  private shapeCodes = new Int32Array(256);
  private shapeFrom = new Int32Array(65);

  get count(): number {
    return this.spans.count;
  }

  load(text: string): void {
    this.text = text;
    const spans = this.spans;
    scanTokens(text, spans);
    const count = spans.count;
    if (this.wordLength.length < count) {
      this.perToken = new Int32Array(spans.start.length * PER_TOKEN);
      this.wordLength = new Int32Array(spans.start.length);
      this.shapeFrom = new Int32Array(spans.start.length + 1);
    }
    this.p1wBefore = P1W_BOS;
    this.wn1Before = 0;
    for (let j = 0; j < count; j++) {
      // Lowercase word: an ASCII token is read from the text with A–Z folded, so no string is
      // built; any other uses toLowerCase(), which may change its length.
      const start = spans.start[j];
      const end = spans.end[j];
      const general = spans.general[j] === 1;
      const word = general ? text.slice(start, end).toLowerCase() : text;
      const from = general ? 0 : start;
      const to = general ? word.length : end;
      this.wordLength[j] = to - from;
      this.hashWord(j, word, from, to);

      const at = this.shapeFrom[j];
      this.shapeFrom[j + 1] = general ? this.putShape(shape(text.slice(start, end)), at) : this.asciiShape(text, start, end, at);
      this.hashShape(j, this.startsLine(j) ? P_LS1 : P_LS0);
    }
    if (count > 0) this.perToken[(count - 1) * PER_TOKEN + WN1] = stream(this.wn1Before, '</s>');
  }

  /** Token j's features made of its word; the pair features continue the states the word before left. */
  private hashWord(j: number, word: string, from: number, to: number): void {
    let w = P_W;
    let p1 = P_P1;
    let p2 = P_P2;
    let n1 = P_N1;
    let n2 = P_N2;
    let p1w = this.p1wBefore;
    let wn1 = this.wn1Before;
    let p1wHead = P_P1W;
    let wn1Head = P_WN1;
    for (let i = from; i < to; i++) {
      let c = word.charCodeAt(i);
      if ((c - 65) >>> 0 < 26) c += 32;
      w = Math.imul(w ^ c, FNV_PRIME);
      p1 = Math.imul(p1 ^ c, FNV_PRIME);
      p2 = Math.imul(p2 ^ c, FNV_PRIME);
      n1 = Math.imul(n1 ^ c, FNV_PRIME);
      n2 = Math.imul(n2 ^ c, FNV_PRIME);
      p1w = Math.imul(p1w ^ c, FNV_PRIME);
      wn1 = Math.imul(wn1 ^ c, FNV_PRIME);
      p1wHead = Math.imul(p1wHead ^ c, FNV_PRIME);
      wn1Head = Math.imul(wn1Head ^ c, FNV_PRIME);
    }
    this.p1wBefore = barOf(p1wHead);
    this.wn1Before = barOf(wn1Head);
    const h = this.perToken;
    const row = j * PER_TOKEN;
    h[row + W] = w;
    h[row + S3] = streamFolded(P_S3, word, Math.max(from, to - 3), to);
    h[row + S2] = streamFolded(P_S2, word, Math.max(from, to - 2), to);
    h[row + P3] = streamFolded(P_P3, word, from, Math.min(from + 3, to));
    h[row + AS_P1] = p1;
    h[row + AS_P2] = p2;
    h[row + AS_N1] = n1;
    h[row + AS_N2] = n2;
    h[row + P1W] = p1w;
    if (j > 0) h[row - PER_TOKEN + WN1] = wn1;
  }

  /** Token j's features made of its shape alone. */
  private hashShape(j: number, lineStart: number): void {
    const codes = this.shapeCodes;
    let s = P_S;
    let ps = P_PS;
    let ns = P_NS;
    let ls = lineStart;
    for (let i = this.shapeFrom[j]; i < this.shapeFrom[j + 1]; i++) {
      const c = codes[i];
      s = Math.imul(s ^ c, FNV_PRIME);
      ps = Math.imul(ps ^ c, FNV_PRIME);
      ns = Math.imul(ns ^ c, FNV_PRIME);
      ls = Math.imul(ls ^ c, FNV_PRIME);
    }
    const h = this.perToken;
    const row = j * PER_TOKEN;
    h[row + S] = s;
    h[row + AS_PS] = ps;
    h[row + AS_NS] = ns;
    h[row + LS] = ls;
  }

  /** Appends `shape()` of an ASCII token; same rules, without building the string. */
  private asciiShape(text: string, start: number, end: number, at: number): number {
    if (at + 6 > this.shapeCodes.length) this.shapeCodes = grow(this.shapeCodes);
    const codes = this.shapeCodes;
    const first = at;
    let last = -1;
    for (let j = start; j < end; j++) {
      const s = asciiShapeCode(text.charCodeAt(j));
      if (s !== last) {
        codes[at++] = s;
        last = s;
        if (at - first === 6) break;
      }
    }
    return at;
  }

  private putShape(sh: string, at: number): number {
    while (at + sh.length > this.shapeCodes.length) this.shapeCodes = grow(this.shapeCodes);
    for (let j = 0; j < sh.length; j++) this.shapeCodes[at++] = sh.charCodeAt(j);
    return at;
  }

  /** `tokens[j].text === String.fromCharCode(code)` */
  private isChar(j: number, code: number): boolean {
    const start = this.spans.start[j];
    return this.spans.end[j] - start === 1 && this.text.charCodeAt(start) === code;
  }

  private startsLine(i: number): boolean {
    if (i === 0) return true;
    const { start, end } = this.spans;
    if (end[i - 1] - start[i - 1] === 1 && SENTENCE_END_CODES.has(this.text.charCodeAt(start[i - 1]))) return true;
    return newlineBetween(this.text, end[i - 1], start[i]);
  }

  /** The hashes of `features(...)` for token i, tags given by number in `tags`; returns how many. */
  hashes(i: number, prevTag: number, prev2Tag: number, tags: TagHashes, out: Int32Array): number {
    const h = this.perToken;
    const row = i * PER_TOKEN;
    const last = this.spans.count - 1;
    let n = 0;
    out[n++] = BIAS;
    out[n++] = h[row + W];
    out[n++] = h[row + S];
    out[n++] = h[row + S3];
    out[n++] = h[row + S2];
    out[n++] = h[row + P3];
    out[n++] = i > 0 ? h[row - PER_TOKEN + AS_P1] : P1_BOS;
    out[n++] = i > 1 ? h[row - 2 * PER_TOKEN + AS_P2] : P2_BOS;
    out[n++] = i < last ? h[row + PER_TOKEN + AS_N1] : N1_EOS;
    out[n++] = i + 1 < last ? h[row + 2 * PER_TOKEN + AS_N2] : N2_EOS;
    out[n++] = i > 0 ? h[row - PER_TOKEN + AS_PS] : PS_BOS;
    out[n++] = i < last ? h[row + PER_TOKEN + AS_NS] : NS_EOS;
    n = this.tagHashes(i, prevTag, prev2Tag, tags, out, n);
    out[n++] = h[row + P1W];
    out[n++] = h[row + WN1];
    out[n++] = h[row + LS];
    out[n++] = LEN[Math.min(this.wordLength[i], 10)];
    if (i > 0 && this.isChar(i - 1, 64 /* @ */) && this.spans.end[i - 1] === this.spans.start[i]) out[n++] = AT;
    if (i > 0 && this.isChar(i - 1, 35 /* # */)) out[n++] = HASH;
    return n;
  }

  /** Writes the `TAG_FEATURES` hashes of token i that depend on the previous tags into `out` at `n`; returns n + 3. */
  tagHashes(i: number, prevTag: number, prev2Tag: number, tags: TagHashes, out: Int32Array, n: number): number {
    out[n++] = tags.t1[prevTag];
    out[n++] = tags.t12[prev2Tag * tags.names.length + prevTag];
    out[n++] = streamCodes(tags.t1s[prevTag], this.shapeCodes, this.shapeFrom[i], this.shapeFrom[i + 1]);
    return n;
  }
}

