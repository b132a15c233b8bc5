import { timingSafeEqual } from 'node:crypto';
import type { TokenAttributes } from './attributes.js';
import type { TokenScope } from './scope.js';
import { hashToken, isWellFormedToken } from './token-format.js';
import type { TokenStore } from './types.js';

/** Why a request was not authenticated. The caller answers 401 for all of them; the reason is for logs and metrics. */
export type AuthFailureReason = 'missing' | 'not_bearer' | 'malformed' | 'unknown' | 'revoked';

/** The outcome of authenticate(). Neither branch carries the token text or its hash. */
export type AuthResult =
  | { ok: true; token: { id: string; scope: TokenScope; attributes?: TokenAttributes } }
  | { ok: false; reason: AuthFailureReason };

export interface AuthenticateOptions {
  /** The clock (for tests). */
  now?: Date;
  /**
   * Called when recording last-used fails. That write is bookkeeping: its failure (say, the database is locked for
   * longer than the busy timeout) does not fail the request, but should be logged.
   */
  onTouchError?: (error: unknown) => void;
}

/** last-used is written at most this often per token, so it never becomes a write per decision. */
export const LAST_USED_RESOLUTION_MS = 60_000;

const HASH_HEX_LENGTH = 64;

/**
 * Checks an `Authorization` header value: `Bearer <token>` (RFC 6750: the scheme case-insensitive, one or more spaces,
 * surrounding whitespace ignored). A bare token or any other scheme is refused (`not_bearer`), so a token is only ever
 * taken from where clients are told to send it. Looks the token up by its SHA-256 and compares the hashes in constant
 * time.
 *
 * Caches nothing itself: each call asks `tokens`, so a revocation takes effect on the next request. The sidecar uses
 * cachedAuthenticate (cached-authenticate.ts), which trusts a token that authenticated for at most 1 s (revocation by
 * another process then takes effect within 1 s).
 *
 * @example
 * const auth = await authenticate(store.tokens, request.headers.authorization);
 * if (!auth.ok) return reply.code(401).send(...);
 * if (auth.token.scope.kind === 'agent') action.agent = { ...action.agent, id: auth.token.scope.agentId };
 */
export async function authenticate(
  tokens: TokenStore,
  bearerValue: string | null | undefined,
  options: AuthenticateOptions = {},
): Promise<AuthResult> {
  const presented = bearerToken(bearerValue);
  if (typeof presented !== 'string') return presented;
  const hash = hashToken(presented);
  const stored = await tokens.findByHash(hash);
  if (stored === null || !sameHash(hash, stored.hash)) return { ok: false, reason: 'unknown' };
  if (stored.revokedAt !== null) return { ok: false, reason: 'revoked' };

  const nowMs = options.now?.getTime() ?? Date.now();
  // Checked here first so that a token in steady use costs no write statement (nor date formatting) at all; the store
  // checks again, in case another process wrote it since. An unreadable stored time counts as due.
  if (stored.lastUsedAt === null || !(Date.parse(stored.lastUsedAt) >= nowMs - LAST_USED_RESOLUTION_MS)) {
    try {
      await tokens.touch(stored.id, new Date(nowMs).toISOString(), new Date(nowMs - LAST_USED_RESOLUTION_MS).toISOString());
    } catch (error) {
      options.onTouchError?.(error);
    }
  }
  const attributes = stored.attributes ?? {};
  return { ok: true, token: Object.keys(attributes).length > 0 ? { id: stored.id, scope: stored.scope, attributes } : { id: stored.id, scope: stored.scope } };
}

/**
 * The token of an `Authorization` header value (`Bearer <token>`, see authenticate), or why there is none. Says nothing
 * about whether the token exists.
 */
export function bearerToken(bearerValue: string | null | undefined): string | { ok: false; reason: AuthFailureReason } {
  if (typeof bearerValue !== 'string') return { ok: false, reason: 'missing' };
  const trimmed = bearerValue.trim();
  if (trimmed === '') return { ok: false, reason: 'missing' };
  const scheme = /^bearer(?: +|$)/i.exec(trimmed);
  if (scheme === null) return { ok: false, reason: 'not_bearer' };
  const value = trimmed.slice(scheme[0].length);
  if (value === '') return { ok: false, reason: 'missing' };
  if (!isWellFormedToken(value)) return { ok: false, reason: 'malformed' };
  return value;
}

/** Constant-time comparison of two hex SHA-256 digests; false for anything that is not one. */
function sameHash(expected: string, stored: string): boolean {
  if (typeof stored !== 'string' || stored.length !== HASH_HEX_LENGTH || !/^[0-9a-f]+$/.test(stored)) return false;
  return timingSafeEqual(Buffer.from(expected, 'hex'), Buffer.from(stored, 'hex'));
}
