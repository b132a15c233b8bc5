import { CONFUSABLES } from './confusables.js';
import { INVISIBLE } from './normalize.js';

/**
 * Folding for the span guardrails (pii, secrets): the text they match on, with the way back to the original.
 *
 * Unlike the injection normaliser this keeps case, words and spacing, and changes only what an attacker uses to hide
 * a value from a pattern while a reader still sees it:
 * - invisible and format characters (zero-width space, joiners, soft hyphen, bidi controls, tag characters) are
 *   removed, and combining marks after an ASCII letter or digit or a look-alike of one (`4̲0̲1̲2̲`) too;
 * - full-width, small, letterlike, enclosed and mathematical forms of ASCII characters become them (NFKC, restricted
 *   to those blocks): `０-９ Ａ-Ｚ ａ-ｚ ＠ －`, `﹫`, `K`, `①`, `𝐀`; every space (NBSP, thin, ideographic) becomes ` `;
 * - every other Unicode decimal digit (Arabic-Indic `٠-٩`, Devanagari, Bengali, …) becomes its ASCII digit;
 * - Unicode hyphens and dashes (`‐ ‑ ‒ – −`) become `-`;
 * - Cyrillic and Greek look-alikes become ASCII inside words that also hold ASCII letters or digits (`ѕk-proj-…`),
 *   never in words of their own script;
 * - HTML character references become their character, folded as above (`&#52;&#48;…`, `jane&#64;example.com`);
 * - e-mail spellings: `(at)`, `[at]`, `{at}`, `<at>` and `%40` become `@`, `(dot)`, `[dot]`, `[.]` become `.`, and
 *   spaces around an `@` go (`jane @ example.com`, `jane@ example.com`), when a domain follows; `@name` mentions and
 *   tokenised text (`at @ home`) stay as they are.
 *
 * Each unit of the folded text remembers which original characters it came from, so a finding is reported, and
 * redacted, on the original span (invisible characters inside a value are part of it). Linear in the input: one pass
 * per step, every regex with bounded repetitions, per-character results cached.
 */
export interface FoldedText {
  /** The text to match on. */
  readonly text: string;
  /** True when folding changed nothing: spans need no mapping. */
  readonly identity: boolean;
  /** The original span of the folded span [from, to), to > from. */
  original(from: number, to: number): { start: number; end: number };
}

const NON_ASCII = /[^\x00-\x7F]/;
const INVISIBLE_CHAR = new RegExp(`^${INVISIBLE.source}$`, 'u');
const MARK = /^\p{M}$/u;
const DECIMAL = /^\p{Nd}$/u;
const SPACE = /^[^\S\n\r\t]$/u;
// Hyphen, non-breaking hyphen, figure dash, en dash, minus sign, small hyphen-minus (full-width is handled by NFKC).
const HYPHENS = new Set([0x2010, 0x2011, 0x2012, 0x2013, 0x2212, 0xfe63]);
// An ellipsis stays: secret scanners read `…` as a placeholder marker, and `...` would change what they see.
const KEEP = new Set([0x2026]);
/**
 * Blocks whose characters are ASCII in another dress (NFKC maps them to one ASCII character): full-width forms, small
 * forms (`﹫`), letterlike symbols (the Kelvin sign `K`), enclosed alphanumerics (`①`, `ⓐ`, `🄰`) and mathematical
 * alphanumerics (`𝐀`, `𝟎`). Not the rest of NFKC: `ª`, `º` and superscripts are ordinary text and would glue onto the
 * word next to them (`ª` + `https://…` would hide the URL).
 */
const COMPATIBILITY_FORMS: readonly (readonly [number, number])[] = [
  [0xfe50, 0xfe6f],
  [0xff00, 0xffef],
  [0x2100, 0x214f],
  [0x2460, 0x24ff],
  [0x1d400, 0x1d7ff],
  [0x1f100, 0x1f1ff],
];

/**
 * `(dot)` / `[dot]` / `[.]` between letters or digits; then `(at)` / `[at]` and spaced `@` between a local part and
 * what reads as a domain (a label, then a dot), so `@ name` mentions and tokenised text (`at @ home`) stay apart.
 */
const DOT_WORD = /(?<=[A-Za-z0-9])[ \t]{0,3}[([{<][ \t]{0,2}(?:dot|\.)[ \t]{0,2}[)\]}>][ \t]{0,3}(?=[A-Za-z0-9])/gi;
const DOMAIN_AHEAD = '(?=[A-Za-z0-9][A-Za-z0-9-]{0,62}\\.[A-Za-z0-9])';
const AT_WORD = new RegExp(`(?<=[A-Za-z0-9._%+-])[ \\t]{0,3}[([{<][ \\t]{0,2}at[ \\t]{0,2}[)\\]}>][ \\t]{0,3}${DOMAIN_AHEAD}`, 'gi');
const SPACED_AT = new RegExp(`(?<=[A-Za-z0-9._%+-])(?:[ \\t]{1,3}@[ \\t]{1,3}|@[ \\t]{1,3})${DOMAIN_AHEAD}`, 'g');
const PERCENT_AT = new RegExp(`(?<=[A-Za-z0-9._+-])%40${DOMAIN_AHEAD}`, 'g');
const MAY_SPELL_EMAIL = /[([{<][ \t]{0,2}(?:at|dot|\.)[ \t]{0,2}[)\]}>]|[ \t]@|@[ \t]|%40/i;
/** HTML character references a browser or mail client would show as the character (`&#64;`, `&#x34;`, `&commat;`). */
const ENTITY = /&(?:#(\d{1,7})|#[xX]([0-9A-Fa-f]{1,6})|(commat|period|nbsp|hyphen|dash|minus));/g;
const ENTITY_HINT = /&(?:#|commat;|period;|nbsp;|hyphen;|dash;|minus;)/;
const NAMED: Record<string, string> = { commat: '@', period: '.', nbsp: ' ', hyphen: '-', dash: '-', minus: '-' };
const WORD = /[\p{L}\p{N}\p{M}_-]+/gu;
const ASCII_ALNUM = /[A-Za-z0-9]/;

/** A character's fold: '' (drop), one ASCII character, or undefined (keep as is). */
const DROP = '';
const cache = new Map<number, string | undefined>();
const CACHE_MAX = 4096;

function asciiDigitOf(cp: number): string | undefined {
  // Decimal digits come in runs of ten, 0 to 9, and each run starts at a zero (Unicode's stability policy), so the
  // distance from the start of a run of consecutive digits, modulo ten, is the value.
  let first = cp;
  while (cp - first < 100 && DECIMAL.test(String.fromCodePoint(first - 1))) first--;
  return String((cp - first) % 10);
}

function foldOf(cp: number): string | undefined {
  if (cache.has(cp)) return cache.get(cp);
  const ch = String.fromCodePoint(cp);
  let out: string | undefined;
  if (KEEP.has(cp)) out = undefined;
  else if (INVISIBLE_CHAR.test(ch)) out = DROP;
  else if (HYPHENS.has(cp)) out = '-';
  else if (SPACE.test(ch)) out = ' ';
  else if (DECIMAL.test(ch)) out = asciiDigitOf(cp);
  else if (COMPATIBILITY_FORMS.some(([low, high]) => cp >= low && cp <= high)) {
    const nfkc = ch.normalize('NFKC');
    if (nfkc.length === 1 && nfkc.charCodeAt(0) < 0x80) out = nfkc;
  }
  if (cache.size >= CACHE_MAX) cache.clear();
  cache.set(cp, out);
  return out;
}

/** A growable pair of offset arrays: for each folded unit, the original [start, end). */
class Offsets {
  start: Int32Array;
  end: Int32Array;
  length = 0;

  constructor(capacity: number) {
    this.start = new Int32Array(Math.max(16, capacity));
    this.end = new Int32Array(Math.max(16, capacity));
  }

  push(start: number, end: number): void {
    if (this.length === this.start.length) {
      const start2 = new Int32Array(this.length * 2);
      const end2 = new Int32Array(this.length * 2);
      start2.set(this.start);
      end2.set(this.end);
      this.start = start2;
      this.end = end2;
    }
    this.start[this.length] = start;
    this.end[this.length] = end;
    this.length++;
  }
}

function mapped(text: string, offsets: Offsets): FoldedText {
  return {
    text,
    identity: false,
    original: (from, to) => ({ start: offsets.start[from], end: offsets.end[to - 1] }),
  };
}

const IDENTITY = (text: string): FoldedText => ({ text, identity: true, original: (from, to) => ({ start: from, end: to }) });

/** Pass 1: character by character; ASCII runs are copied whole. */
function foldCharacters(raw: string): { text: string; offsets: Offsets; lookAlikes: boolean } {
  const offsets = new Offsets(raw.length);
  const parts: string[] = [];
  let lookAlikes = false;
  // After an ASCII letter or digit, or a look-alike of one, a combining mark is dropped into that character.
  let marksJoinLast = false;
  let i = 0;
  while (i < raw.length) {
    let j = i;
    while (j < raw.length && raw.charCodeAt(j) < 0x80) j++;
    if (j > i) {
      parts.push(raw.slice(i, j));
      for (let k = i; k < j; k++) offsets.push(k, k + 1);
      marksJoinLast = ASCII_ALNUM.test(raw[j - 1]);
      i = j;
      if (i >= raw.length) break;
    }
    const cp = raw.codePointAt(i)!;
    const width = cp > 0xffff ? 2 : 1;
    const ch = raw.slice(i, i + width);
    const fold = foldOf(cp);
    if (fold === DROP) {
      // An invisible character: dropped; inside a value it is covered by the value's span anyway.
    } else if (fold === undefined && marksJoinLast && MARK.test(ch)) {
      // A mark on an ASCII letter or digit (or a look-alike of one): dropped, but part of the character it decorates.
      offsets.end[offsets.length - 1] = i + width;
    } else if (fold !== undefined) {
      parts.push(fold);
      offsets.push(i, i + width);
      marksJoinLast = ASCII_ALNUM.test(fold);
    } else {
      parts.push(ch);
      for (let k = 0; k < width; k++) offsets.push(i, i + width);
      const lookAlike = CONFUSABLES.has(ch);
      if (lookAlike) lookAlikes = true;
      marksJoinLast = lookAlike;
    }
    i += width;
  }
  return { text: parts.join(''), offsets, lookAlikes };
}

/** Pass 2 (same length): look-alikes to ASCII, keeping case, in words that mix them with ASCII letters or digits. */
function foldLookAlikes(text: string): string {
  return text.replace(WORD, (word) => {
    if (!ASCII_ALNUM.test(word)) return word;
    let out = '';
    for (const ch of word) {
      const ascii = CONFUSABLES.get(ch);
      out += ascii === undefined ? ch : ch !== ch.toLowerCase() ? ascii.toUpperCase() : ascii;
    }
    return out;
  });
}

/** A character reference's character; the reference itself when it names none (or `&`). */
function decodeEntity(match: RegExpExecArray): string {
  const named = match[3];
  if (named !== undefined) return NAMED[named];
  const cp = match[1] !== undefined ? Number(match[1]) : parseInt(match[2], 16);
  // `&#38;` stays: decoded, it would start a new reference with what follows.
  if (cp === 0 || cp === 0x26 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return match[0];
  return String.fromCodePoint(cp);
}

function identityOffsets(length: number): Offsets {
  const offsets = new Offsets(length);
  for (let k = 0; k < length; k++) offsets.push(k, k + 1);
  return offsets;
}

/** Offsets of a pass over text that earlier passes made, mapped through theirs to the original. */
function compose(outer: Offsets, inner: Offsets): Offsets {
  const out = new Offsets(outer.length);
  for (let j = 0; j < outer.length; j++) out.push(inner.start[outer.start[j]], inner.end[outer.end[j] - 1]);
  return out;
}

/**
 * Replaces each match of `pattern` by `by` (or what `by` returns for it); the replacement covers the original span of
 * the whole match.
 */
function replaceMapped(text: string, offsets: Offsets, pattern: RegExp, by: string | ((match: RegExpExecArray) => string)): { text: string; offsets: Offsets } {
  const out = new Offsets(text.length);
  const parts: string[] = [];
  let last = 0;
  pattern.lastIndex = 0;
  for (let m = pattern.exec(text); m !== null; m = pattern.exec(text)) {
    if (m[0].length === 0) {
      pattern.lastIndex++;
      continue;
    }
    const replacement = typeof by === 'string' ? by : by(m);
    parts.push(text.slice(last, m.index), replacement);
    for (let k = last; k < m.index; k++) out.push(offsets.start[k], offsets.end[k]);
    const end = m.index + m[0].length;
    for (let k = 0; k < replacement.length; k++) out.push(offsets.start[m.index], offsets.end[end - 1]);
    last = end;
  }
  if (last === 0) return { text, offsets };
  parts.push(text.slice(last));
  for (let k = last; k < text.length; k++) out.push(offsets.start[k], offsets.end[k]);
  return { text: parts.join(''), offsets: out };
}

/** The text the span guardrails match on, and the way back to `raw`'s offsets. */
export function foldForMatching(raw: string): FoldedText {
  const entities = ENTITY_HINT.test(raw);
  if (!entities && !NON_ASCII.test(raw) && !MAY_SPELL_EMAIL.test(raw)) return IDENTITY(raw);
  let text = raw;
  let offsets: Offsets | undefined;
  // References first, once, as a browser shows them; what they stand for is then folded like typed text.
  if (entities) ({ text, offsets } = replaceMapped(text, identityOffsets(text.length), ENTITY, decodeEntity));
  if (NON_ASCII.test(text)) {
    const pass = foldCharacters(text);
    offsets = offsets === undefined ? pass.offsets : compose(pass.offsets, offsets);
    text = pass.lookAlikes ? foldLookAlikes(pass.text) : pass.text;
  }
  if (MAY_SPELL_EMAIL.test(text)) {
    offsets ??= identityOffsets(text.length);
    for (const [pattern, by] of [[DOT_WORD, '.'], [AT_WORD, '@'], [SPACED_AT, '@'], [PERCENT_AT, '@']] as const) {
      ({ text, offsets } = replaceMapped(text, offsets, pattern, by));
    }
  }
  if (offsets === undefined) return IDENTITY(raw);
  return text === raw ? IDENTITY(raw) : mapped(text, offsets);
}

/**
 * Maps findings on the folded text back to the original. Spans kept apart in the folded text stay apart, except when
 * a boundary falls inside one original character; then the later span is dropped (the earlier one covers it).
 */
export function toOriginalSpans<T extends { start: number; end: number }>(folded: FoldedText, spans: readonly T[]): T[] {
  if (folded.identity) return [...spans];
  const out: T[] = [];
  let lastEnd = -1;
  for (const span of [...spans].sort((a, b) => a.start - b.start)) {
    const { start, end } = folded.original(span.start, span.end);
    if (start < lastEnd) continue;
    out.push({ ...span, start, end });
    lastEnd = end;
  }
  return out;
}
