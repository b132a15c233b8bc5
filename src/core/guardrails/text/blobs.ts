/**
 * Data inside text: `data:` URLs carrying base64 (inline images, audio, files) and long base64 or hex runs. Text
 * classifiers (injection, moderation, the name/place tagger) judge language, and random characters look like nothing
 * they were trained on: a 100 KB inline image scored as an injection. They see a text with its blobs blanked out;
 * what a blob decodes to, when that reads as text, is still scored by them (see decode.ts), and the span guardrails
 * (secrets, the pii recognizers) still scan it.
 *
 * A run written to look like a blob must not hide language: `IgnoreAllPreviousInstructions…` in camel case or leet is
 * a run of base64 characters too. So outside a `data:` URL of a binary media type a base64 run counts as a blob only
 * when it is long and reads as random: few vowels (a quarter of random base64 characters are vowels or the digits
 * 0, 1, 3, 4 that leet uses for them; about 40 % of the letters of English words are).
 */

/** Shortest run of base64 or hex characters taken for data rather than words. */
export const MIN_BLOB_CHARS = 256;

/** Largest share of vowel-like characters (`aeiou` of either case, leet's `0 1 3 4`) of a base64 run taken for data. */
const MAX_VOWEL_SHARE = 0.3;

const enum Kind {
  Other = 0,
  Hex = 1, // 0-9 a-f A-F
  Base64 = 2, // other letters, +, /
}

const KIND = new Uint8Array(128);
for (let c = 48; c <= 57; c++) KIND[c] = Kind.Hex;
for (let c = 65; c <= 90; c++) KIND[c] = c <= 70 ? Kind.Hex : Kind.Base64;
for (let c = 97; c <= 122; c++) KIND[c] = c <= 102 ? Kind.Hex : Kind.Base64;
KIND[43] = Kind.Base64; // +
KIND[47] = Kind.Base64; // /

const VOWEL_LIKE = new Uint8Array(128);
for (const ch of 'aeiouAEIOU0134') VOWEL_LIKE[ch.charCodeAt(0)] = 1;

const EQUALS = 61;
// `data:` + media type + parameters + `;base64,`. The media type decides whether the payload is binary.
const DATA_URL = /data:([a-z]+\/[a-z0-9.+-]+)?((?:;[a-z0-9.+-]+=[^;,\s]{0,64}){0,8});base64,/giy;
const TEXT_MEDIA = /^(?:text\/|application\/(?:json|xml|javascript|x-sh|x-www-form-urlencoded)|[a-z]+\/[a-z0-9.-]*\+(?:json|xml)$)/i;

/** [start, end) of each blob in `text`, in order, not overlapping. One pass over the text. */
export function blobSpans(text: string): Array<[number, number]> {
  const spans: Array<[number, number]> = [];
  const n = text.length;
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    // data: URLs: the header and the payload are one blob when the media type is binary.
    if ((c | 32) === 100 && text.slice(i + 1, i + 5).toLowerCase() === 'ata:') {
      DATA_URL.lastIndex = i;
      const m = DATA_URL.exec(text);
      if (m !== null) {
        const payloadStart = i + m[0].length;
        const end = runEnd(text, payloadStart);
        const binary = m[1] !== undefined && !TEXT_MEDIA.test(m[1]);
        if (end > payloadStart && (binary || isRandomRun(text, payloadStart, end))) {
          spans.push([i, end]);
          i = end;
          continue;
        }
      }
    }
    if (c < 128 && KIND[c] !== Kind.Other && (i === 0 || !continuesRun(text.charCodeAt(i - 1)))) {
      const end = runEnd(text, i);
      if (end - i >= MIN_BLOB_CHARS && isBlobRun(text, i, end)) spans.push([i, end]);
      i = Math.max(end, i + 1);
      continue;
    }
    i++;
  }
  return spans;
}

function continuesRun(c: number): boolean {
  return c < 128 && (KIND[c] !== Kind.Other || c === EQUALS);
}

/** End of the run of base64 characters at `from`, with its `=` padding. */
function runEnd(text: string, from: number): number {
  let j = from;
  while (j < text.length) {
    const c = text.charCodeAt(j);
    if (c >= 128 || KIND[c] === Kind.Other) break;
    j++;
  }
  for (let pad = 0; pad < 2 && j < text.length && text.charCodeAt(j) === EQUALS; pad++) j++;
  return j;
}

/** Hex runs are data whatever they contain (no word is written in a–f alone); base64 runs when they read as random. */
function isBlobRun(text: string, from: number, to: number): boolean {
  let allHex = true;
  for (let j = from; j < to; j++) {
    const c = text.charCodeAt(j);
    if (c !== EQUALS && KIND[c] !== Kind.Hex) {
      allHex = false;
      break;
    }
  }
  if (allHex) return hasDigit(text, from, to);
  return isRandomRun(text, from, to);
}

function hasDigit(text: string, from: number, to: number): boolean {
  for (let j = from; j < to; j++) {
    const c = text.charCodeAt(j);
    if (c >= 48 && c <= 57) return true;
  }
  return false;
}

/** Few vowel-like characters, and a digit or letters of both cases (a plain lowercase word is not encoded data). */
function isRandomRun(text: string, from: number, to: number): boolean {
  let vowels = 0;
  let digits = 0;
  let upper = 0;
  let lower = 0;
  for (let j = from; j < to; j++) {
    const c = text.charCodeAt(j);
    vowels += VOWEL_LIKE[c];
    if (c >= 48 && c <= 57) digits++;
    else if (c >= 65 && c <= 90) upper++;
    else if (c >= 97 && c <= 122) lower++;
  }
  return vowels / (to - from) < MAX_VOWEL_SHARE && (digits > 0 || (upper > 0 && lower > 0));
}

/**
 * `text` with every blob replaced: by as many spaces (`keepOffsets`, so spans found in the result are spans of the
 * original) or by one space. The text itself when it has no blob.
 */
export function blankBlobs(text: string, options: { keepOffsets?: boolean } = {}): string {
  if (text.length < MIN_BLOB_CHARS && !/data:/i.test(text)) return text;
  const spans = blobSpans(text);
  if (spans.length === 0) return text;
  const parts: string[] = [];
  let last = 0;
  for (const [start, end] of spans) {
    parts.push(text.slice(last, start), options.keepOffsets ? ' '.repeat(end - start) : ' ');
    last = end;
  }
  parts.push(text.slice(last));
  return parts.join('');
}
