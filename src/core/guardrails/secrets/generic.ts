import { DEFAULT_ENTROPY_THRESHOLD } from './config.js';
import { charClasses, entropyBar, isPlaceholder, looksLikeCodeReference, shannonEntropy } from './entropy.js';

/**
 * GENERIC_SECRET: a random-looking value assigned to a name that says it is secret — `.env` lines, JSON and
 * YAML fields, code assignments, CLI flags (`--token X`), HTTP headers and prose ("the password is X").
 * Keywords are found first, then the surrounding name and the value after it are read by hand, so the cost is
 * one scan for the keywords plus a bounded walk per hit.
 */

export const DEFAULT_KEYWORDS: readonly string[] = [
  'password', 'passwd', 'pwd', 'pass', 'passphrase', 'secret', 'token', 'api_key', 'apikey', 'auth', 'authorization',
  'credential', 'credentials', 'private_key', 'access_key', 'secret_key', 'client_secret', 'signing_key', 'session_key',
  'encryption_key', 'master_key', 'bearer',
];

export const GENERIC_TYPE = 'GENERIC_SECRET';
export const MIN_GENERIC_LENGTH = 8;
/** The default entropy threshold, at which the length scaling is calibrated. */
const REFERENCE_THRESHOLD = DEFAULT_ENTROPY_THRESHOLD;
export const MAX_GENERIC_LENGTH = 300;
/** Key names are read up to this far either side of a keyword. */
const MAX_NAME = 64;

export interface GenericMatch {
  start: number;
  end: number;
  score: number;
}

export interface GenericScanner {
  scan(text: string): GenericMatch[];
}

/** `private_key_id`, `token_url`, `password_min_length`: names about a secret whose value is not one. */
const NOT_SECRET_SUFFIX = /_(?:id|ids|name|type|url|uri|endpoint|path|file|length|len|size|count|limit|max|min|enabled|version|ttl|expiry|expires|expires_at|at|header|prefix|field|label|hint|format|policy|provider|mode)_$/;

const isNameChar = (c: number): boolean =>
  (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c === 45 || c === 46;

/** `DB_PASSWORD`, `dbPassword`, `x-api-key`, `client.secret` → `db_password`, `db_password`, `x_api_key`, `client_secret`. */
export function normaliseName(name: string): string {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
}

const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export function createGenericScanner(keywords: readonly string[], entropyThreshold: number): GenericScanner {
  const parts = [...new Set(keywords.map(normaliseName).filter((k) => k !== ''))];
  // In text, `api_key` may be written api_key, api-key, apiKey or ApiKey: match the pieces with any separator.
  const alternation = parts
    .sort((a, b) => b.length - a.length)
    .map((k) => k.split('_').map(escapeRegExp).join('[_.-]?'))
    .join('|');
  const finder = new RegExp(alternation, 'gi');
  const wanted = parts.map((k) => `_${k}_`);

  function nameIsSecret(name: string): boolean {
    const n = `_${normaliseName(name)}_`;
    if (NOT_SECRET_SUFFIX.test(n)) return false;
    return wanted.some((w) => n.includes(w));
  }

  function scan(text: string): GenericMatch[] {
    const out: GenericMatch[] = [];
    finder.lastIndex = 0;
    let nameEnd = -1;
    for (let m = finder.exec(text); m !== null; m = finder.exec(text)) {
      if (m.index < nameEnd) continue;
      let s = m.index;
      let e = m.index + m[0].length;
      while (s > 0 && m.index - s < MAX_NAME && isNameChar(text.charCodeAt(s - 1))) s--;
      while (e < text.length && e - m.index < MAX_NAME && isNameChar(text.charCodeAt(e))) e++;
      nameEnd = e;
      finder.lastIndex = e;
      const name = text.slice(s, e);
      if (!nameIsSecret(name)) continue;
      const value = readValue(text, e, text.startsWith('--', s) || /^(?:bearer|authorization)$/i.test(name));
      if (!value) continue;
      // Keywords inside a value (`password=password=…`) are part of the value, not new names.
      finder.lastIndex = nameEnd = value.end;
      const score = judge(text.slice(value.start, value.end), entropyThreshold);
      if (score !== null) out.push({ start: value.start, end: value.end, score });
    }
    return out;
  }

  return { scan };
}

const SCHEMES = /^(?:Bearer|Basic|Token|Digest)\s+/i;

/** Reads `["']? (= | : | := | => | is | was) ["']? VALUE` after a key name ending at `from`. */
function readValue(text: string, from: number, spaceIsAssignment: boolean): { start: number; end: number } | undefined {
  let i = from;
  if (text[i] === '"' || text[i] === "'" || text[i] === '`' || text[i] === ']') i++;
  const rest = text.slice(i, i + 16);
  const op = /^[ \t]{0,4}(?::=|=>|=(?!=)|:|[ \t](?:is|was)[ \t]|[ \t]+value[ \t]*=(?!=))[ \t]{0,4}/.exec(rest) ?? (spaceIsAssignment ? /^[ \t]{1,4}/.exec(rest) : null);
  if (!op) return undefined;
  i += op[0].length;
  const scheme = SCHEMES.exec(text.slice(i, i + 12));
  if (scheme) i += scheme[0].length;
  const quote = text[i] === '"' || text[i] === "'" || text[i] === '`' ? text[i] : undefined;
  if (quote) i++;
  const start = i;
  const limit = Math.min(text.length, start + MAX_GENERIC_LENGTH + 1);
  while (i < limit) {
    const c = text[i];
    if (quote ? c === quote || c === '\n' || c === ' ' : /[\s"'`,;()\]}>]/.test(c)) break;
    i++;
  }
  if (i - start > MAX_GENERIC_LENGTH) return undefined;
  let end = i;
  if (!quote) while (end > start && /[.:!?]/.test(text[end - 1])) end--;
  // A value directly followed by `(` is a function call, not a literal.
  if (text[i] === '(') return undefined;
  return end - start >= MIN_GENERIC_LENGTH ? { start, end } : undefined;
}

/** Score for a candidate value, or null when it does not look like key material. */
export function judge(value: string, entropyThreshold: number): number | null {
  if (isPlaceholder(value) || looksLikeCodeReference(value)) return null;
  // URLs and file paths (`/run/secrets/db_password`, `./keys/dev.pem`); base64 may also start with `/`, but has capitals.
  if (/^https?:\/\//i.test(value) || /^(?:\/[a-z0-9_.-]+)+\/?$/.test(value) || /^(?:\.{1,2}|~)\//.test(value)) return null;
  const classes = charClasses(value);
  const kinds = Number(classes.lower) + Number(classes.upper) + Number(classes.digit) + Number(classes.symbol);
  if (kinds < 2 || !(classes.digit || (classes.upper && classes.lower) || classes.symbol)) return null;
  const entropy = shannonEntropy(value);
  // Hex carries at most 4 bits a character, so a random hex digest sits just under the default bar.
  const cap = /^[0-9a-fA-F]+$/.test(value) ? entropyThreshold - 0.5 : entropyThreshold;
  // Short values cannot reach full entropy (at most log2(length) bits), so the bar shrinks with length,
  // proportionally, so that a higher threshold is stricter at every length.
  if (entropy < cap * Math.min(1, entropyBar(value.length, Infinity) / REFERENCE_THRESHOLD)) return null;
  return entropy >= entropyThreshold + 0.5 ? 0.8 : 0.7;
}
