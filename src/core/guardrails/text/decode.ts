/**
 * Finds encoded payloads (base64, hex, URL-encoding, rot13, Unicode tag characters) in raw
 * text and returns the ones that decode to readable text, so a detector can score them too.
 */

const MAX_PAYLOADS = 8;
const MAX_PAYLOAD_CHARS = 4096;
const BASE64 = /[A-Za-z0-9+/_-]{16,}={0,2}/g;
const HEX = /(?:(?:\\x|0x)?[0-9a-fA-F]{2}[ :,]?){8,}/g;
const URL_ENCODED = /(?:%[0-9a-fA-F]{2}[^%\s]{0,3}){3,}/g;
const TAG_RUN = /[\u{E0020}-\u{E007E}]{3,}/gu;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Readable = mostly letters and spaces, at least one space and one three-letter run. */
export function isReadable(text: string): boolean {
  if (text.length < 6 || !/\s/.test(text) || !/\p{L}{3}/u.test(text)) return false;
  const bad = text.replace(/[\p{L}\p{N}\s.,:;!?'"()-]+/gu, '').length;
  return bad / text.length <= 0.15;
}

function bytesToText(bytes: Uint8Array): string | undefined {
  try {
    return utf8.decode(bytes);
  } catch {
    return undefined;
  }
}

function decodeBase64(candidate: string): string | undefined {
  const body = candidate.replace(/=+$/, '').replace(/-/g, '+').replace(/_/g, '/');
  if (body.length % 4 === 1) return undefined;
  return bytesToText(Buffer.from(body, 'base64'));
}

function decodeHex(candidate: string): string | undefined {
  const digits = candidate.replace(/\\x|0x|[ :,]/g, '');
  if (digits.length % 2 !== 0) return undefined;
  return bytesToText(Buffer.from(digits, 'hex'));
}

function decodeUrl(candidate: string): string | undefined {
  try {
    return decodeURIComponent(candidate);
  } catch {
    return undefined;
  }
}

export function rot13(text: string): string {
  return text.replace(/[a-zA-Z]/g, (ch) => {
    const base = ch <= 'Z' ? 65 : 97;
    return String.fromCharCode(((ch.charCodeAt(0) - base + 13) % 26) + base);
  });
}

const COMMON = new Set(
  'the and you your to of is are in for that this it with all be not what now from as on instructions ignore previous prompt say system password tell me print'.split(' '),
);

const ASCII_WORD = /[a-z]+/g;

/** How many common English words `text` has, counting no further than `atMost` (the callers only compare small counts). */
function commonWordCount(text: string, atMost: number): number {
  const lower = text.toLowerCase();
  let count = 0;
  ASCII_WORD.lastIndex = 0;
  for (let m = ASCII_WORD.exec(lower); m !== null && count < atMost; m = ASCII_WORD.exec(lower)) if (COMMON.has(m[0])) count++;
  return count;
}

/** Text hidden as Unicode tag characters (U+E0020-E007E mirror printable ASCII). */
function decodeTags(text: string): string[] {
  const out: string[] = [];
  for (const match of text.matchAll(TAG_RUN)) {
    out.push([...match[0]].map((ch) => String.fromCharCode(ch.codePointAt(0)! - 0xe0000)).join(''));
  }
  return out;
}

/**
 * A base64 candidate has a letter and a digit, or letters of both cases (a plain word does not). Three separate
 * searches: one pattern such as `[A-Z].*[a-z]` would rescan the rest of the run from every letter (quadratic).
 */
function looksEncoded(candidate: string): boolean {
  return /[A-Za-z]/.test(candidate) && (/\d/.test(candidate) || (/[A-Z]/.test(candidate) && /[a-z]/.test(candidate)));
}

/** Readable payloads hidden in `raw`, decoded; at most 8, each cut to 4096 characters. */
export function decodePayloads(raw: string): string[] {
  const found: string[] = [];
  const add = (decoded: string | undefined) => {
    if (decoded === undefined || found.length >= MAX_PAYLOADS) return;
    const cut = decoded.slice(0, MAX_PAYLOAD_CHARS);
    if (isReadable(cut) && !found.includes(cut)) found.push(cut);
  };
  for (const tags of decodeTags(raw)) add(tags);
  if (raw.length >= 16) {
    for (const match of raw.matchAll(BASE64)) if (looksEncoded(match[0])) add(decodeBase64(match[0]));
    for (const match of raw.matchAll(HEX)) add(decodeHex(match[0].trim()));
    for (const match of raw.matchAll(URL_ENCODED)) add(decodeUrl(match[0]));
  }
  // rot13 has no marker: keep it only when it reads as clearly more English than the original.
  // Plain English (three or more common words) is not rot13, so it is not rotated at all.
  const head = raw.slice(0, MAX_PAYLOAD_CHARS);
  const before = commonWordCount(head, 3);
  if (before < 3 && /[a-zA-Z]{3}/.test(head)) {
    const rotated = rot13(head);
    const after = commonWordCount(rotated, 5);
    if (after >= 3 && after > 2 * before) add(rotated);
  }
  return found;
}
