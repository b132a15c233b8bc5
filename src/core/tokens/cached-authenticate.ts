import { LRUCache } from 'lru-cache';
import { authenticate, bearerToken, type AuthenticateOptions, type AuthResult } from './authenticate.js';
import { hashToken } from './token-format.js';
import type { TokenStore } from './types.js';

/** The longest a token that authenticated may be trusted: a revocation by any process takes effect within this time. */
export const MAX_TOKEN_CACHE_TTL_MS = 1000;

export interface CachedAuthenticateOptions extends Pick<AuthenticateOptions, 'onTouchError'> {
  /** How long a token that authenticated is trusted without asking the store, at most MAX_TOKEN_CACHE_TTL_MS (the default). */
  ttlMs?: number;
  /** Tokens remembered at most (least recently used go first; default 1 024). */
  max?: number;
  /** Milliseconds from any fixed origin (for tests); default `performance.now()`. */
  clock?: () => number;
  /**
   * The change feed of a store shared by several instances (Store.onChange): a token revoked on any instance is
   * forgotten here at once, not after up to `ttlMs`; after the feed reconnects (changes may have been missed), all are.
   */
  changes?: (listener: (change: { kind: string; id: string }) => void) => () => void;
}

type Authenticated = Extract<AuthResult, { ok: true }>;

/**
 * authenticate() for a daemon that sees the same few tokens on every request: a token that authenticated is trusted
 * for at most `ttlMs` (1 s) by the SHA-256 of its text, as the store keys it, so a request with a known token costs the
 * header parse, one hash and a map lookup instead of the lookup, the constant-time comparison and the last-used check.
 * Only tokens that authenticated are remembered (a bad or revoked token asks the store every time, and guessing
 * cannot fill the cache); the cache holds hashes and token ids, never a token's text.
 *
 * Pass the store's own TokenStore: a result then never outlives `ttlMs`, so a token revoked by another process is
 * refused within 1 s, and at once when the store has a change feed. Last-used is still written
 * about once a minute: each expiry asks the store again, and authenticate() touches when due.
 *
 * @example
 * const auth = cachedAuthenticate(store.tokens, { changes: store.onChange });
 * const result = await auth(request.headers.authorization); // a result, or a promise when the store is asked
 */
export function cachedAuthenticate(tokens: TokenStore, options: CachedAuthenticateOptions = {}): (header: string | undefined) => AuthResult | Promise<AuthResult> {
  const ttlMs = Math.min(Math.max(options.ttlMs ?? MAX_TOKEN_CACHE_TTL_MS, 0), MAX_TOKEN_CACHE_TTL_MS);
  const clock = options.clock ?? (() => performance.now());
  const known = new LRUCache<string, { result: Authenticated; expires: number }>({ max: options.max ?? 1024 });
  options.changes?.((change) => {
    if (change.kind === 'reconnected') known.clear();
    else if (change.kind === 'tokens') for (const [hash, entry] of known.entries()) if (entry.result.token.id === change.id) known.delete(hash);
  });
  const touch = options.onTouchError ? { onTouchError: options.onTouchError } : {};
  const ask = async (header: string | undefined, hash: string, started: number): Promise<AuthResult> => {
    const result = await authenticate(tokens, header, touch);
    if (result.ok) {
      // Counted from before the store was asked: the answer is never trusted longer than ttlMs after it was read.
      known.set(hash, { result: freeze(result), expires: started + ttlMs });
    } else {
      known.delete(hash);
    }
    return result;
  };
  // Answered at once (no promise) when the header has no token or the token is remembered: the common case.
  return (header) => {
    const presented = bearerToken(header);
    if (typeof presented !== 'string') return presented;
    const hash = hashToken(presented);
    const started = clock();
    const hit = known.get(hash);
    if (hit !== undefined && hit.expires > started) return hit.result;
    return ask(header, hash, started);
  };
}

/** Shared by every request with the token: no route may change it for the next one. */
function freeze(result: Authenticated): Authenticated {
  const { token } = result;
  Object.freeze(token.scope);
  if (token.attributes) Object.freeze(token.attributes);
  Object.freeze(token);
  return Object.freeze(result);
}
