import { hash, randomBytes } from 'node:crypto';

/**
 * The text form of API tokens and their ids.
 *
 * A token is `agk_` followed by 32 random bytes in base64url (43 characters). The fixed prefix lets secret scanners
 * (GitHub push protection, gitleaks, trufflehog) recognise a leaked token; the length and alphabet let a malformed
 * value be refused before any lookup. Only the SHA-256 of a token is stored: the token has 256 bits of entropy, so a
 * fast unsalted hash cannot be reversed by guessing, and lookup by hash needs no per-token salt.
 *
 * A token id (`tok_` + 12 hex digits) is public: it names a token in `token list` and `token revoke`, in logs and in
 * the audit, and cannot be used to authenticate.
 */

/** Prefix of every agentguard API token. */
export const TOKEN_PREFIX = 'agk_';
/** Prefix of every token id. */
export const TOKEN_ID_PREFIX = 'tok_';

const TOKEN_BYTES = 32;
/**
 * A token in text, unanchored: the one definition the secrets guardrail and the audit masker build their patterns on.
 * @example new RegExp(TOKEN_SOURCE).test('/v1/agk_CGkH1lv6GSdt8NRneQyHyYLUs6M54g2Qlqb4OGOiUVI') // true
 */
export const TOKEN_SOURCE = 'agk_[A-Za-z0-9_-]{43}';
/** Anything that starts like a token (the prefix and a run of its alphabet), complete or cut short. */
export const TOKEN_LIKE_SOURCE = 'agk_[A-Za-z0-9_-]{8,}';
/** Length of a token: the prefix and 43 characters. */
export const TOKEN_LENGTH = 47;
const TOKEN_PATTERN = new RegExp(`^${TOKEN_SOURCE}$`);
const TOKEN_ID_PATTERN = /^tok_[0-9a-f]{12}$/;

/** A new random token (shown to the user once, never stored). */
export function generateToken(): string {
  return TOKEN_PREFIX + randomBytes(TOKEN_BYTES).toString('base64url');
}

/** A new random token id. */
export function generateTokenId(): string {
  return TOKEN_ID_PREFIX + randomBytes(6).toString('hex');
}

/**
 * What is stored for a token: its SHA-256, as 64 lowercase hex digits.
 *
 * @example
 * hashToken(generateToken()).length; // 64
 */
export function hashToken(token: string): string {
  // One-shot: about twice as fast as a Hash object, and the sidecar hashes the token of every request.
  return hash('sha256', token, 'hex');
}

/** True when `value` has the shape of a token (prefix, length, alphabet); says nothing about whether it exists. */
export function isWellFormedToken(value: string): boolean {
  return TOKEN_PATTERN.test(value);
}

/**
 * True when `value` is a well-formed token whose 43 characters are the canonical base64url of 32 bytes: the last
 * character carries only 4 bits, so its 2 low bits are zero (`A`, `E`, `I`, …, `w`, `0`, `4`, `8`). Every token
 * {@link generateToken} makes has this form; 3 in 4 random strings of the same length and alphabet do not, which keeps
 * the secrets guardrail from reporting text that merely looks like a token.
 */
export function isCanonicalToken(value: string): boolean {
  if (!isWellFormedToken(value)) return false;
  const body = value.slice(TOKEN_PREFIX.length);
  return Buffer.from(body, 'base64url').toString('base64url') === body;
}

/** True when `value` has the shape of a token id. */
export function isTokenId(value: string): boolean {
  return TOKEN_ID_PATTERN.test(value);
}

const TOKEN_LIKE = new RegExp(TOKEN_LIKE_SOURCE, 'g');

/**
 * `text` with every agentguard token in it (or a long enough piece of one) replaced by `agk_[MASKED]`: for log lines
 * and error messages that quote a request, where a token sent in the wrong place must not be written.
 *
 * @example maskTokens('/v1/agk_CGkH1lv6GSdt8NRneQyHyYLUs6M54g2Qlqb4OGOiUVI') // '/v1/agk_[MASKED]'
 */
export function maskTokens(text: string): string {
  return text.includes('agk_') ? text.replace(TOKEN_LIKE, 'agk_[MASKED]') : text;
}
