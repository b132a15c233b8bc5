import { describe, expect, it } from 'vitest';
import { openStore } from '../src/core/store/open-store.js';
import type { Store } from '../src/core/store/store.js';
import { cachedAuthenticate, MAX_TOKEN_CACHE_TTL_MS } from '../src/core/tokens/cached-authenticate.js';
import { agentScope } from '../src/core/tokens/scope.js';
import { generateToken, hashToken } from '../src/core/tokens/token-format.js';
import { createToken, revokeToken } from '../src/core/tokens/tokens.js';
import type { StoredToken, TokenStore } from '../src/core/tokens/types.js';
import { tempDataDir } from './helpers/audit-log.js';

async function freshStore(): Promise<{ store: Store; dataDir: string }> {
  const dataDir = tempDataDir('ag-auth-cache-');
  return { store: await openStore({ dataDir }), dataDir };
}

/** Counts lookups and last-used writes of a TokenStore. */
function counting(inner: TokenStore): TokenStore & { lookups: number; touches: number } {
  const spy = {
    lookups: 0,
    touches: 0,
    insert: (t: StoredToken) => inner.insert(t),
    findByHash: (h: string) => (spy.lookups++, inner.findByHash(h)),
    get: (id: string) => inner.get(id),
    list: () => inner.list(),
    revoke: (id: string, time: string) => inner.revoke(id, time),
    touch: (id: string, time: string, olderThan: string) => (spy.touches++, inner.touch(id, time, olderThan)),
  };
  return spy;
}

describe('cachedAuthenticate (the sidecar checks bearer tokens with it)', () => {
  it('trusts a token that authenticated for at most 1 s: a revocation by another process is refused within 1 s', async () => {
    const { store, dataDir } = await freshStore();
    const { token, info } = await createToken(store.tokens, { scope: agentScope('bot'), attributes: { 'agent.role': 'support' } });
    const tokens = counting(store.tokens);
    let clock = 0;
    // A longer TTL than allowed is clamped to the 1 s that revocation promises.
    const auth = cachedAuthenticate(tokens, { ttlMs: 60_000, clock: () => clock });
    const first = await auth(`Bearer ${token}`);
    expect(first).toEqual({ ok: true, token: { id: info.id, scope: { kind: 'agent', agentId: 'bot' }, attributes: { 'agent.role': 'support' } } });
    for (let i = 0; i < 50; i++) expect(await auth(`bearer   ${token}  `)).toBe(first);
    expect(tokens.lookups).toBe(1);
    // A remembered token is answered at once, without a promise.
    expect(auth(`Bearer ${token}`)).toBe(first);

    const cli = await openStore({ dataDir, create: false });
    await revokeToken(cli.tokens, info.id);
    await cli.close();
    clock = MAX_TOKEN_CACHE_TTL_MS - 1;
    expect((await auth(`Bearer ${token}`)).ok).toBe(true);
    clock = MAX_TOKEN_CACHE_TTL_MS;
    expect(await auth(`Bearer ${token}`)).toEqual({ ok: false, reason: 'revoked' });
    expect(await auth(`Bearer ${token}`)).toEqual({ ok: false, reason: 'revoked' });
    expect(tokens.lookups).toBe(3);
    await store.close();
  });

  it('forgets a token at once when the change feed says it changed, and everything when the feed reconnects', async () => {
    const { store } = await freshStore();
    const a = await createToken(store.tokens, { scope: agentScope('a') });
    const b = await createToken(store.tokens, { scope: agentScope('b') });
    const tokens = counting(store.tokens);
    let feed: (change: { kind: string; id: string }) => void = () => undefined;
    const auth = cachedAuthenticate(tokens, {
      clock: () => 0,
      changes: (listener) => {
        feed = listener;
        return () => undefined;
      },
    });
    await auth(`Bearer ${a.token}`);
    await auth(`Bearer ${b.token}`);
    expect(tokens.lookups).toBe(2);
    await store.tokens.revoke(a.info.id, new Date().toISOString());
    feed({ kind: 'tokens', id: a.info.id });
    expect(await auth(`Bearer ${a.token}`)).toEqual({ ok: false, reason: 'revoked' });
    expect((await auth(`Bearer ${b.token}`)).ok).toBe(true);
    expect(tokens.lookups).toBe(3);
    feed({ kind: 'reconnected', id: '' });
    expect((await auth(`Bearer ${b.token}`)).ok).toBe(true);
    expect(tokens.lookups).toBe(4);
    await store.close();
  });

  it('never remembers a token that did not authenticate: a token created after a miss works at once, guesses always ask the store', async () => {
    const { store } = await freshStore();
    const tokens = counting(store.tokens);
    const auth = cachedAuthenticate(tokens, { clock: () => 0 });
    const guess = generateToken();
    for (let i = 0; i < 3; i++) expect(await auth(`Bearer ${guess}`)).toEqual({ ok: false, reason: 'unknown' });
    expect(tokens.lookups).toBe(3);
    // A token stored with the hash of the text that was just refused (as if created now) is accepted at once.
    await store.tokens.insert({ id: 'tok_0123456789ab', hash: hashToken(guess), scope: agentScope('late'), name: null, createdAt: new Date().toISOString(), lastUsedAt: null, revokedAt: null, attributes: {} });
    expect(await auth(`Bearer ${guess}`)).toMatchObject({ ok: true, token: { id: 'tok_0123456789ab' } });
    // Headers without a well-formed bearer token never reach the store.
    const before = tokens.lookups;
    expect(await auth(undefined)).toEqual({ ok: false, reason: 'missing' });
    expect(await auth(`Basic ${guess}`)).toEqual({ ok: false, reason: 'not_bearer' });
    expect(await auth('Bearer not-a-token')).toEqual({ ok: false, reason: 'malformed' });
    expect(tokens.lookups).toBe(before);
    await store.close();
  });

  it('shares one frozen principal between requests, so no route can change it for the next one', async () => {
    const { store } = await freshStore();
    const { token } = await createToken(store.tokens, { scope: agentScope('bot') });
    const auth = cachedAuthenticate(store.tokens, { clock: () => 0 });
    const result = await auth(`Bearer ${token}`);
    if (!result.ok) throw new Error('expected the token to authenticate');
    expect(Object.isFrozen(result.token) && Object.isFrozen(result.token.scope)).toBe(true);
    expect(() => {
      (result.token.scope as { agentId: string }).agentId = 'other';
    }).toThrow(TypeError);
    await store.close();
  });

  it('writes last-used once, not per request, and lets a store that cannot be read fail the request', async () => {
    const { store } = await freshStore();
    const { token, info } = await createToken(store.tokens, { scope: agentScope('bot') });
    const tokens = counting(store.tokens);
    let clock = 0;
    const auth = cachedAuthenticate(tokens, { clock: () => clock });
    for (let i = 0; i < 20; i++, clock += 250) expect((await auth(`Bearer ${token}`)).ok).toBe(true);
    expect(tokens.touches).toBe(1);
    expect((await store.tokens.get(info.id))!.lastUsedAt).not.toBeNull();

    const broken = cachedAuthenticate({ ...tokens, findByHash: () => Promise.reject(new Error('database is locked')) }, { clock: () => 0 });
    await expect(broken(`Bearer ${token}`)).rejects.toThrow('database is locked');
    await store.close();
  });
});
