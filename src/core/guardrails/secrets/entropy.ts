/** Character statistics used to tell random key material from words, identifiers and placeholders. */

/** Shannon entropy in bits per character (over UTF-16 code units; secrets are ASCII). */
export function shannonEntropy(value: string): number {
  if (value.length === 0) return 0;
  const counts = new Map<number, number>();
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    counts.set(c, (counts.get(c) ?? 0) + 1);
  }
  let bits = 0;
  for (const n of counts.values()) {
    const p = n / value.length;
    bits -= p * Math.log2(p);
  }
  return bits;
}

/**
 * The entropy a random string of this length should reach: a string of n characters can carry at most
 * log2(n) bits per character, so short values are held to a proportionally lower bar, never above `cap`.
 */
export function entropyBar(length: number, cap: number, fraction = 0.8): number {
  return Math.min(cap, fraction * Math.log2(Math.max(2, length)));
}

export interface CharClasses {
  lower: boolean;
  upper: boolean;
  digit: boolean;
  /** Symbols other than the separators `-`, `_`, `.`. */
  symbol: boolean;
}

export function charClasses(value: string): CharClasses {
  return {
    lower: /[a-z]/.test(value),
    upper: /[A-Z]/.test(value),
    digit: /[0-9]/.test(value),
    symbol: /[^A-Za-z0-9_.\-]/.test(value),
  };
}

// Words that mark documentation values, found anywhere in the value in lower, upper or title case.
const PLACEHOLDER_WORDS = ['your', 'example', 'placeholder', 'changeme', 'change_me', 'dummy', 'redacted', 'sample', 'insert', 'xxxx', '****', '....', '…', '<', '>', '${', '{{', '$('];
const SEQUENCES = ['0123456789', '123456789', 'abcdefghij', '12345678', 'abcdefgh'];
const PLAIN_WORDS = new Set(['password', 'passwd', 'secret', 'token', 'null', 'none', 'undefined', 'true', 'false', 'nil', 'empty', 'required', 'optional', 'string', 'value']);

/**
 * True for values that are obviously not real secrets: documentation placeholders (`YOUR_API_KEY`, `sk-...`,
 * `<token>`, `${VAR}`), repeated or sequential characters, and bare words.
 */
export function isPlaceholder(value: string): boolean {
  const lower = value.toLowerCase();
  if (PLAIN_WORDS.has(lower)) return true;
  // Placeholders are written `your`, `YOUR` or `Your`; random key material mixing case (`0YoUrLq`) is not one.
  for (const word of PLACEHOLDER_WORDS) {
    if (value.includes(word) || value.includes(word.toUpperCase()) || value.includes(word[0].toUpperCase() + word.slice(1))) return true;
  }
  for (const seq of SEQUENCES) if (lower.includes(seq)) return true;
  if (/(.)\1{5,}/.test(value)) return true;
  return distinctChars(value) <= Math.max(3, Math.floor(value.length / 6));
}

function distinctChars(value: string): number {
  return new Set(value).size;
}

/** `process.env.X`, `config.apiKey`, `os.environ`, `getToken`: code that names a secret rather than holding one. */
export function looksLikeCodeReference(value: string): boolean {
  if (/^[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)+$/.test(value)) return true;
  if (/^(?:process|os|env|self|this|config|settings|secrets|vars|ENV)\b/.test(value)) return true;
  // A lone name (`DB_PASSWORD`, `my_token`, `getToken`, `ApiKeyValue`) is a reference, not key material.
  return /^[A-Z_]+$/.test(value) || /^[a-z_]+$/.test(value) || /^[A-Za-z][a-z]{2,}(?:[A-Z][a-z]{2,})+$/.test(value);
}
