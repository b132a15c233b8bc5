import { Buffer } from 'node:buffer';
import { endianness } from 'node:os';
import { CONFUSABLES } from './confusables.js';
import { INVISIBLE } from './normalize.js';

/**
 * Folding for the span guardrails (pii, secrets): the text they match on, with the way back to the original.
 *
 * Unlike the injection normaliser this keeps case, words and spacing, and changes only what an attacker uses to hide
 * a value from a pattern while a reader still sees it:
 * - HTML character references become their character, once, as a browser shows them (`&#52;&#48;…`, `&#64;`,
 *   `&commat;`); what they stand for is then folded like typed text;
 * - invisible and format characters (zero-width space, joiners, soft hyphen, bidi controls, tag characters) are
 *   removed, and combining marks after an ASCII letter or digit or a look-alike of one (`4̲0̲1̲2̲`) too;
 * - full-width, small, letterlike, enclosed and mathematical forms of ASCII characters become them (NFKC, restricted
 *   to those blocks): `０-９ Ａ-Ｚ ａ-ｚ ＠ －`, `﹫`, `K`, `①`, `𝐀`; every space (NBSP, thin, ideographic) becomes ` `;
 * - every other Unicode decimal digit (Arabic-Indic `٠-٩`, Devanagari, Bengali, …) becomes its ASCII digit;
 * - Unicode hyphens and dashes (`‐ ‑ ‒ – −`) become `-`;
 * - Cyrillic and Greek look-alikes become ASCII (keeping case) inside words that also hold ASCII letters or digits
 *   (`ѕk-proj-…`), never in words of their own script;
 * - e-mail spellings: `(at)`, `[at]`, `{at}`, `<at>`, `[@]` and `%40` become `@`, `(dot)`, `[dot]`, `[.]` become `.`, and
 *   spaces around an `@` go (`jane @ example.com`, `jane@ example.com`), when a domain follows; `@name` mentions and
 *   tokenised text (`at @ home`) stay as they are.
 *
 * Each unit of the folded text remembers which original characters it came from, so a finding is reported, and
 * redacted, on the original span (invisible characters inside a value are part of it). Linear in the input: at most
 * three passes, every regex with bounded repetitions, per-character results cached. Pure ASCII text with none of the
 * spellings above is returned as it is, without a map.
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
const MARK_CHAR = /^\p{M}$/u;
const DECIMAL = /^\p{Nd}$/u;
const SPACE = /^[^\S\n\r\t]$/u;
// Hyphen, non-breaking hyphen, figure dash, en dash, minus sign, small hyphen-minus (full-width is handled by NFKC).
const HYPHENS = new Set([0x2010, 0x2011, 0x2012, 0x2013, 0x2212, 0xfe63]);
// An ellipsis stays: secret scanners read `…` as a placeholder marker, and `...` would change what they see.
const KEEP_AS_IS = new Set([0x2026]);
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

/** Look-alike code unit → ASCII code, in the case of the look-alike (Cyrillic `А` → `A`, `а` → `a`). */
const LOOK_ALIKE = new Map<number, number>(
  [...CONFUSABLES].map(([ch, ascii]) => [ch.charCodeAt(0), (ch !== ch.toLowerCase() ? ascii.toUpperCase() : ascii).charCodeAt(0)]),
);

/** HTML character references a browser or mail client would show as the character (`&#64;`, `&#x34;`, `&commat;`). */
const ENTITY = /&(?:#(\d{1,7})|#[xX]([0-9A-Fa-f]{1,6})|(commat|period|nbsp|hyphen|dash|minus));/g;
const ENTITY_HINT = /&(?:#|commat;|period;|nbsp;|hyphen;|dash;|minus;)/;
const NAMED: Record<string, string> = { commat: '@', period: '.', nbsp: ' ', hyphen: '-', dash: '-', minus: '-' };

/**
 * E-mail spellings, one pass: `(dot)` / `[dot]` / `[.]` between letters or digits (group `dot`); `(at)`, `[at]`,
 * spaced `@` and `%40` after a local-part character and before what reads as a domain, a label and a dot, spelt or not
 * (group `at`), so `@ name` mentions and tokenised text (`at @ home`) stay apart.
 */
const SPELT_DOT = '[ \\t]{0,3}[([{<][ \\t]{0,2}(?:dot|\\.)[ \\t]{0,2}[)\\]}>][ \\t]{0,3}';
const DOMAIN_AHEAD = `(?=[A-Za-z0-9][A-Za-z0-9-]{0,62}(?:\\.|${SPELT_DOT})[A-Za-z0-9])`;
const EMAIL_SPELLING = new RegExp(
  `(?<dot>(?<=[A-Za-z0-9])${SPELT_DOT}(?=[A-Za-z0-9]))` +
    `|(?<at>(?<=[A-Za-z0-9._%+-])(?:[ \\t]{0,3}[([{<][ \\t]{0,2}(?:at|@)[ \\t]{0,2}[)\\]}>][ \\t]{0,3}|[ \\t]{1,3}@[ \\t]{1,3}|@[ \\t]{1,3}|%40)${DOMAIN_AHEAD})`,
  'gi',
);
const MAY_SPELL_EMAIL = /[([{<][ \t]{0,2}(?:at|dot|\.|@)[ \t]{0,2}[)\]}>]|[ \t]@|@[ \t]|%40/i;

// A character's fold, as a code: an ASCII code, or one of these.
const KEEP = -1;
const DROP = -2;
/** A combining mark: dropped after an ASCII letter or digit (or a look-alike of one), kept elsewhere. */
const MARK = -3;
const folds = new Map<number, number>();
const FOLDS_MAX = 16_384;

function asciiDigitOf(cp: number): number {
  // Decimal digits come in runs of ten, 0 to 9, and each run starts at a zero (Unicode's stability policy), so the
  // distance from the start of a run of consecutive digits, modulo ten, is the value.
  let first = cp;
  while (cp - first < 100 && DECIMAL.test(String.fromCodePoint(first - 1))) first--;
  return 0x30 + ((cp - first) % 10);
}

/** Large blocks none of whose characters fold (CJK ideographs, Hangul syllables, emoji): no lookup, no cache entry. */
const plainBlock = (cp: number): boolean =>
  (cp >= 0x4e00 && cp <= 0x9fff) || (cp >= 0x3400 && cp <= 0x4dbf) || (cp >= 0xac00 && cp <= 0xd7a3) || (cp >= 0x1f300 && cp <= 0x1faff) || (cp >= 0x20000 && cp <= 0x3ffff);

function foldOf(cp: number): number {
  if (plainBlock(cp)) return KEEP;
  const known = folds.get(cp);
  if (known !== undefined) return known;
  const ch = String.fromCodePoint(cp);
  let fold = KEEP;
  if (KEEP_AS_IS.has(cp)) fold = KEEP;
  else if (INVISIBLE_CHAR.test(ch)) fold = DROP;
  else if (HYPHENS.has(cp)) fold = 0x2d;
  else if (SPACE.test(ch)) fold = 0x20;
  else if (DECIMAL.test(ch)) fold = asciiDigitOf(cp);
  else if (MARK_CHAR.test(ch)) fold = MARK;
  else if (COMPATIBILITY_FORMS.some(([low, high]) => cp >= low && cp <= high)) {
    const nfkc = ch.normalize('NFKC');
    if (nfkc.length === 1 && nfkc.charCodeAt(0) < 0x80) fold = nfkc.charCodeAt(0);
  }
  if (folds.size >= FOLDS_MAX) folds.clear();
  folds.set(cp, fold);
  return fold;
}

const isAsciiAlnum = (c: number): boolean => (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
/** Ends a word for look-alike folding: ASCII other than letters, digits, `_` and `-` (spaces, punctuation). */
const endsWord = (c: number): boolean => c < 0x80 && !isAsciiAlnum(c) && c !== 0x5f && c !== 0x2d;

/** For each folded unit, the original [start, end). Never longer than the text it maps: folding only shrinks. */
class Offsets {
  readonly start: Int32Array;
  readonly end: Int32Array;
  length = 0;

  constructor(capacity: number) {
    this.start = new Int32Array(capacity);
    this.end = new Int32Array(capacity);
  }

  push(start: number, end: number): void {
    this.start[this.length] = start;
    this.end[this.length] = end;
    this.length++;
  }
}

const LITTLE_ENDIAN = endianness() === 'LE';

/** Code units to a string: one copy where the platform's byte order is UTF-16LE's, else in chunks of call arguments. */
function stringOf(units: Uint16Array, length: number): string {
  if (LITTLE_ENDIAN) return Buffer.from(units.buffer, units.byteOffset, length * 2).toString('utf16le');
  const parts: string[] = [];
  for (let i = 0; i < length; i += 4096) parts.push(String.fromCharCode.apply(null, Array.from(units.subarray(i, Math.min(length, i + 4096)))));
  return parts.join('');
}

/**
 * Character by character: invisible characters, marks, compatibility forms, digits, spaces and hyphens, then
 * look-alikes at each word's end. `base` maps this text's offsets to the original (undefined: this is the original).
 */
function foldCharacters(text: string, base: Offsets | undefined): { text: string; offsets: Offsets } {
  const units = new Uint16Array(text.length);
  const offsets = new Offsets(text.length);
  let length = 0;
  const push = (unit: number, start: number, end: number) => {
    units[length] = unit;
    offsets.push(base === undefined ? start : base.start[start], base === undefined ? end : base.end[end - 1]);
    length++;
  };
  // Look-alikes of the current word (positions in `units`), folded at its end when it also holds ASCII letters/digits.
  const lookAlikes: number[] = [];
  let wordHasAscii = false;
  const endWord = () => {
    if (wordHasAscii) for (const at of lookAlikes) units[at] = LOOK_ALIKE.get(units[at])!;
    lookAlikes.length = 0;
    wordHasAscii = false;
  };
  // After an ASCII letter or digit, or a look-alike of one, a combining mark is dropped into that character.
  let marksJoinLast = false;
  for (let i = 0; i < text.length; ) {
    const c = text.charCodeAt(i);
    if (c < 0x80) {
      if (endsWord(c)) endWord();
      else if (isAsciiAlnum(c)) wordHasAscii = true;
      push(c, i, i + 1);
      marksJoinLast = isAsciiAlnum(c);
      i++;
      continue;
    }
    const cp = text.codePointAt(i)!;
    const width = cp > 0xffff ? 2 : 1;
    const fold = foldOf(cp);
    if (fold === DROP) {
      // An invisible character: dropped; inside a value it is covered by the value's span anyway.
    } else if (fold === MARK && marksJoinLast) {
      // Part of the character it decorates.
      offsets.end[offsets.length - 1] = base === undefined ? i + width : base.end[i + width - 1];
    } else if (fold >= 0) {
      if (endsWord(fold)) endWord();
      else if (isAsciiAlnum(fold)) wordHasAscii = true;
      push(fold, i, i + width);
      marksJoinLast = isAsciiAlnum(fold);
    } else {
      for (let k = 0; k < width; k++) push(text.charCodeAt(i + k), i, i + width);
      const lookAlike = LOOK_ALIKE.has(c);
      if (lookAlike) lookAlikes.push(length - 1);
      marksJoinLast = lookAlike;
    }
    i += width;
  }
  endWord();
  return { text: stringOf(units, length), offsets };
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

/**
 * Replaces each match of `pattern` by what `by` returns for it; the replacement covers the original span of the whole
 * match. `base` maps this text's offsets to the original (undefined: this is the original). Replacements are never
 * longer than their match.
 */
function replaceMapped(text: string, base: Offsets | undefined, pattern: RegExp, by: (match: RegExpExecArray) => string): { text: string; offsets: Offsets } {
  const out = new Offsets(text.length);
  const startOf = (k: number) => (base === undefined ? k : base.start[k]);
  const endOf = (k: number) => (base === undefined ? k + 1 : base.end[k]);
  const parts: string[] = [];
  let last = 0;
  pattern.lastIndex = 0;
  for (let m = pattern.exec(text); m !== null; m = pattern.exec(text)) {
    const replacement = by(m);
    parts.push(text.slice(last, m.index), replacement);
    for (let k = last; k < m.index; k++) out.push(startOf(k), endOf(k));
    const end = m.index + m[0].length;
    for (let k = 0; k < replacement.length; k++) out.push(startOf(m.index), endOf(end - 1));
    last = end;
  }
  parts.push(text.slice(last));
  for (let k = last; k < text.length; k++) out.push(startOf(k), endOf(k));
  return { text: parts.join(''), offsets: out };
}

function mapped(text: string, offsets: Offsets): FoldedText {
  return { text, identity: false, original: (from, to) => ({ start: offsets.start[from], end: offsets.end[to - 1] }) };
}

const IDENTITY = (text: string): FoldedText => ({ text, identity: true, original: (from, to) => ({ start: from, end: to }) });

/** The text the span guardrails match on, and the way back to `raw`'s offsets. */
export function foldForMatching(raw: string): FoldedText {
  const entities = ENTITY_HINT.test(raw);
  if (!entities && !NON_ASCII.test(raw) && !MAY_SPELL_EMAIL.test(raw)) return IDENTITY(raw);
  let text = raw;
  let offsets: Offsets | undefined;
  if (entities) ({ text, offsets } = replaceMapped(text, offsets, ENTITY, decodeEntity));
  if (NON_ASCII.test(text)) ({ text, offsets } = foldCharacters(text, offsets));
  if (MAY_SPELL_EMAIL.test(text)) ({ text, offsets } = replaceMapped(text, offsets, EMAIL_SPELLING, (m) => (m.groups!.at !== undefined ? '@' : '.')));
  return offsets === undefined || text === raw ? IDENTITY(raw) : mapped(text, offsets);
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
