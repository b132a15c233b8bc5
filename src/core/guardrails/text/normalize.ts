import { LRUCache } from 'lru-cache';
import { CONFUSABLES } from './confusables.js';
import { checkDeadline } from '../budget.js';
import { blankBlobs } from './blobs.js';
import { decodePayloads } from './decode.js';

/**
 * Opt-in changes to normalisation, stored in a model file so a model is always scored with the normalisation it was
 * trained with (a model without them normalises exactly as before).
 */
export interface NormalizeOptions {
  /**
   * Fold Cyrillic and Greek look-alikes to Latin only inside words that also have Latin letters ("іgnore" with a
   * Cyrillic і is a disguise), so Russian or Greek words keep their own letters instead of turning into a Latin and
   * Cyrillic mix.
   */
  keepScripts?: boolean;
}

export interface NormalizedText {
  /** Text for matching: folded, lowercased, invisible characters removed, spacing collapsed. */
  readonly text: string;
  /** Encoded payloads found in the input that decode to readable text, each normalised. */
  readonly decoded: readonly string[];
}

// Zero-width, bidi controls, word joiners, BOM, soft hyphen, variation selectors, tag characters, other format chars.
export const INVISIBLE = /[\p{Cf}\u00AD\u034F\u115F\u1160\u17B4\u17B5\u180B-\u180F\u3164\uFE00-\uFE0F\uFFA0\u{E0000}-\u{E007F}\u{E0100}-\u{E01EF}]/gu;
const COMBINING_DIACRITICS = /[\u0300-\u036F]/g;
const NON_ASCII = /[^\x00-\x7F]/;
// Four or more single letters/digits separated by spaces or one punctuation mark: "i g n o r e", "i.g.n.o.r.e".
const SPACED_LETTERS = /(?<![\p{L}\p{N}])[\p{L}\p{N}](?:(?: +|[._*\-])[\p{L}\p{N}](?![\p{L}\p{N}])){3,}/gu;
const LEET: Record<string, string> = { '0': 'o', '1': 'i', '3': 'e', '4': 'a', '5': 's', '7': 't', '@': 'a', $: 's' };
const LEET_TOKEN = /(?<![a-z0-9@$])[a-z0-9@$]*[0-9@$][a-z0-9@$]*/g;

function foldConfusables(text: string): string {
  let folded = '';
  for (const ch of text) folded += CONFUSABLES.get(ch) ?? ch;
  return folded;
}

// A word (letters and marks) with at least one ASCII letter: where a look-alike from another script is a disguise.
const LETTER_RUN = /[\p{L}\p{M}]+/gu;
const ASCII_LETTER = /[a-z]/i;

function foldMixedScriptWords(text: string): string {
  return text.replace(LETTER_RUN, (word) => (ASCII_LETTER.test(word) && NON_ASCII.test(word) ? foldConfusables(word) : word));
}

function foldUnicode(text: string, options: NormalizeOptions): string {
  const fold = options.keepScripts === true ? foldMixedScriptWords : foldConfusables;
  let out = fold(text).toLowerCase().normalize('NFKD').replace(COMBINING_DIACRITICS, '').normalize('NFKC').toLowerCase();
  if (NON_ASCII.test(out)) out = fold(out);
  return out.replace(INVISIBLE, '');
}

/**
 * Joins spaced-out letters. Inside a run, separators longer than the shortest one are word
 * breaks ("i g n o r e  p r e v" -> "ignore prev"). Repeated until stable so the result does
 * not change when normalised again.
 */
function joinSpacedLetters(text: string): string {
  // Each pass is linear; nested spacing ("a b  c d   e f …") needs a pass per level, so the passes are capped.
  for (let pass = 0; pass < MAX_JOIN_PASSES; pass++) {
    const next = text.replace(SPACED_LETTERS, joinRun);
    if (next === text) return text;
    text = next;
  }
  return text;
}

/**
 * One run of SPACED_LETTERS joined: letters (one code point each) and separators alternate, a separator is spaces or
 * one of `._*-`. Scanned by hand: a run can be as long as the text, and an object per letter made long runs slow.
 */
function joinRun(run: string): string {
  let narrowest = Number.POSITIVE_INFINITY;
  for (let i = letterEnd(run, 0); i < run.length; ) {
    const after = separatorEnd(run, i);
    const width = run.charCodeAt(i) === 32 ? after - i : 1;
    if (width < narrowest) narrowest = width;
    i = letterEnd(run, after);
  }
  const out: string[] = [];
  let i = letterEnd(run, 0);
  out.push(run.slice(0, i));
  while (i < run.length) {
    const after = separatorEnd(run, i);
    const width = run.charCodeAt(i) === 32 ? after - i : 1;
    const end = letterEnd(run, after);
    out.push(width > narrowest ? ` ${run.slice(after, end)}` : run.slice(after, end));
    i = end;
  }
  return out.join('');
}

/** End of the letter (one code point) at i. */
function letterEnd(run: string, i: number): number {
  const c = run.charCodeAt(i);
  return c >= 0xd800 && c <= 0xdbff && i + 1 < run.length ? i + 2 : i + 1;
}

/** End of the separator at i: a run of spaces, or one punctuation mark. */
function separatorEnd(run: string, i: number): number {
  if (run.charCodeAt(i) !== 32) return i + 1;
  let j = i;
  while (j < run.length && run.charCodeAt(j) === 32) j++;
  return j;
}

const MAX_JOIN_PASSES = 16;

// Every whitespace run but a single space (which stays as it is): far fewer matches than /\s+/ on ordinary text.
const SPACING_TO_COLLAPSE = /\s{2,}|[^\S ]/g;

function collapseSpacing(text: string): string {
  return text.replace(SPACING_TO_COLLAPSE, (run) => (run.includes('\n') ? '\n' : ' ')).trim();
}

/**
 * "1gn0r3" -> "ignore": only inside tokens with at least two letters, so plain numbers stay;
 * "@" and "$" only next to a letter (repeated until stable, so e-mail-like "a@@" folds fully).
 */
const isLetter = (c: number): boolean => c >= 97 && c <= 122;

function foldLeet(text: string): string {
  return text.replace(LEET_TOKEN, (token) => {
    if (token.replace(/[^a-z]/g, '').length < 2) return token;
    const out = token.replace(/[013457]/g, (ch) => LEET[ch]);
    // What folding `@`/`$` next to a letter until stable gives, in one pass: a run of them touching a letter becomes
    // letters (one pass per character of the run was quadratic on a long run).
    return out.replace(/[@$]+/g, (run, at: number) =>
      isLetter(out.charCodeAt(at - 1)) || isLetter(out.charCodeAt(at + run.length)) ? run.replace(/[@$]/g, (ch) => LEET[ch]) : run,
    );
  });
}

function normalizeOnly(raw: string, options: NormalizeOptions): string {
  let text = raw.replace(INVISIBLE, '');
  text = NON_ASCII.test(text) ? foldUnicode(text, options) : text.toLowerCase();
  checkDeadline();
  text = collapseSpacing(joinSpacedLetters(text.replace(/[^\S\n ]/g, ' ')));
  checkDeadline();
  return foldLeet(text);
}

// The injection and moderation guardrails both normalise every text a decision reads, so the last few results are kept
// (a decision brings few texts that are new to the guardrails; the rest they remember themselves). Texts above
// MEMO_MAX_CHARS are not kept, which bounds what the memo holds.
const MEMO_SIZE = 16;
const MEMO_MAX_CHARS = 32_768;
const DEFAULT_OPTIONS: NormalizeOptions = Object.freeze({});
/** One memo per set of options (there are at most a few: one per shipped model). */
const memos = new Map<string, LRUCache<string, NormalizedText>>();

/**
 * Canonical form of `raw` for detectors (never shown to users): NFKC, look-alikes folded to
 * ASCII, invisible and format characters removed, whitespace collapsed, spaced-out letters
 * joined, leetspeak folded, lowercase. Idempotent on `.text`. The result is frozen (it may be shared).
 */
export function normalizeText(raw: string, options: NormalizeOptions = DEFAULT_OPTIONS): NormalizedText {
  const key = options.keepScripts === true ? 'keepScripts' : '';
  let memo = memos.get(key);
  if (memo === undefined) memos.set(key, (memo = new LRUCache({ max: MEMO_SIZE })));
  const kept = memo.get(raw);
  if (kept !== undefined) return kept;
  const decoded = decodePayloads(raw).map((payload) => normalizeOnly(payload, options)).filter((payload) => payload.length > 0);
  // Blobs (inline images, long base64 or hex) are not language: the classifiers see the text without them, and what
  // they decode to when it is readable (the payloads above, found in the raw text).
  const result: NormalizedText = Object.freeze({ text: normalizeOnly(blankBlobs(raw), options), decoded: Object.freeze(decoded) });
  if (raw.length <= MEMO_MAX_CHARS) memo.set(raw, result);
  return result;
}
