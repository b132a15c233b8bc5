import type { RevokeOutcome, StoredToken, TokenInfo, TokenStore } from './types.js';

/** The longest a cached token may be trusted: a revocation by any process takes effect within this time. */
export const MAX_TOKEN_CACHE_TTL_MS = 1000;

export interface TokenCacheOptions {
  /** How long a looked-up token is reused, at most MAX_TOKEN_CACHE_TTL_MS (the default). */
  ttlMs?: number;
  /** Milliseconds from any fixed origin (for tests); default `performance.now()`. */
  clock?: () => number;
  /**
   * The change feed of a store shared by several instances (Store.onChange): a token revoked on any instance is
   * forgotten here at once, not after up to `ttlMs`; after the feed reconnects (changes may have been missed), everything is.
   */
  changes?: (listener: (change: { kind: string; id: string }) => void) => () => void;
}

interface Entry {
  token: StoredToken;
  expires: number;
}

/** Above this many entries, expired ones are swept on insert. Only tokens that exist are cached, so this is rarely hit. */
const SWEEP_ABOVE = 10_000;

/**
 * A TokenStore that remembers `findByHash` hits for at most one second, for the sidecar's hot path: an indexed
 * SQLite lookup costs several microseconds per request, a map lookup a fraction of one.
 *
 * Why one second is safe: a token revoked by another process (`agentguard token revoke`) is refused at most
 * `ttlMs` later; one revoked through this wrapper is refused at once. Misses (unknown tokens) are not cached, so a
 * new token works at once and guessing cannot fill the cache. last-used writes pass through and update the cached
 * copy, so a token in steady use still costs at most one write a minute.
 *
 * @example
 * const tokens = cacheTokenStore(store.tokens);
 * const auth = await authenticate(tokens, request.headers.authorization);
 */
export function cacheTokenStore(inner: TokenStore, options: TokenCacheOptions = {}): TokenStore {
  return new CachedTokenStore(inner, options);
}

class CachedTokenStore implements TokenStore {
  private readonly entries = new Map<string, Entry>();
  private readonly ttlMs: number;
  private readonly clock: () => number;

  constructor(
    private readonly inner: TokenStore,
    options: TokenCacheOptions,
  ) {
    this.ttlMs = Math.min(Math.max(options.ttlMs ?? MAX_TOKEN_CACHE_TTL_MS, 0), MAX_TOKEN_CACHE_TTL_MS);
    this.clock = options.clock ?? (() => performance.now());
    options.changes?.((change) => {
      if (change.kind === 'reconnected') this.entries.clear();
      else if (change.kind === 'tokens') this.forget(change.id);
    });
  }

  private forget(id: string): void {
    for (const [hash, entry] of this.entries) if (entry.token.id === id) this.entries.delete(hash);
  }

  async findByHash(hash: string): Promise<StoredToken | null> {
    const now = this.clock();
    const cached = this.entries.get(hash);
    if (cached !== undefined && cached.expires > now) return { ...cached.token };
    const token = await this.inner.findByHash(hash);
    if (token === null) {
      this.entries.delete(hash);
      return null;
    }
    if (this.entries.size >= SWEEP_ABOVE) this.sweep(now);
    this.entries.set(hash, { token: { ...token }, expires: now + this.ttlMs });
    return token;
  }

  async touch(id: string, time: string, olderThan: string): Promise<boolean> {
    const wrote = await this.inner.touch(id, time, olderThan);
    // Either this call wrote `time`, or the stored value is already newer than `olderThan`: both mean the next
    // minute needs no write, so remember `time` (at worst a minute late, never a write per request).
    for (const entry of this.entries.values()) if (entry.token.id === id) entry.token.lastUsedAt = time;
    return wrote;
  }

  async revoke(id: string, time: string): Promise<RevokeOutcome> {
    const outcome = await this.inner.revoke(id, time);
    this.forget(id);
    return outcome;
  }

  insert(token: StoredToken): Promise<void> {
    return this.inner.insert(token);
  }

  get(id: string): Promise<TokenInfo | null> {
    return this.inner.get(id);
  }

  list(): Promise<TokenInfo[]> {
    return this.inner.list();
  }

  private sweep(now: number): void {
    for (const [hash, entry] of this.entries) if (entry.expires <= now) this.entries.delete(hash);
  }
}
