import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AgentGuardError } from '../src/core/errors.js';
import { databasePath, openStore } from '../src/core/store/open-store.js';
import { SqliteAuditStore } from '../src/core/store/sqlite/audit-store.js';
import type { Store } from '../src/core/store/store.js';
import { verifyAudit } from '../src/core/audit/verify.js';
import { authenticate, LAST_USED_RESOLUTION_MS } from '../src/core/tokens/authenticate.js';
import { agentScope, formatScope, parseScope } from '../src/core/tokens/scope.js';
import { generateToken, hashToken, isTokenId, isWellFormedToken } from '../src/core/tokens/token-format.js';
import { createToken, revokeToken } from '../src/core/tokens/tokens.js';
import type { StoredToken, TokenStore } from '../src/core/tokens/types.js';
import { MIGRATIONS, migrate, SCHEMA_VERSION } from '../src/core/store/sqlite/migrations.js';
import { decisionEntry, rawDb, tempDataDir } from './helpers/audit-log.js';

async function freshStore(): Promise<{ store: Store; dataDir: string }> {
  const dataDir = tempDataDir('ag-tokens-');
  return { store: await openStore({ dataDir }), dataDir };
}

/** Wraps a TokenStore, counting writes of last-used and optionally changing what findByHash returns. */
function spyStore(inner: TokenStore, overrides: Partial<TokenStore> = {}): TokenStore & { touches: number; lookups: number } {
  const spy: TokenStore & { touches: number; lookups: number } = {
    touches: 0,
    lookups: 0,
    insert: (t: StoredToken) => inner.insert(t),
    findByHash: (h: string): Promise<StoredToken | null> => (spy.lookups++, inner.findByHash(h)),
    get: (id: string) => inner.get(id),
    list: () => inner.list(),
    revoke: (id: string, time: string) => inner.revoke(id, time),
    touch: async (id: string, time: string, olderThan: string) => {
      spy.touches++;
      return inner.touch(id, time, olderThan);
    },
    ...overrides,
  };
  return spy;
}

describe('token format', () => {
  it('tokens are agk_ + 43 base64url characters (32 random bytes), ids tok_ + 12 hex; all distinct', () => {
    const tokens = Array.from({ length: 200 }, generateToken);
    for (const t of tokens) {
      expect(t).toMatch(/^agk_[A-Za-z0-9_-]{43}$/);
      expect(Buffer.from(t.slice(4), 'base64url')).toHaveLength(32);
      expect(isWellFormedToken(t)).toBe(true);
    }
    expect(new Set(tokens).size).toBe(tokens.length);
    expect(hashToken(tokens[0])).toMatch(/^[0-9a-f]{64}$/);
    expect(hashToken(tokens[0])).not.toBe(hashToken(tokens[1]));
    for (const bad of ['', 'agk_', tokens[0].slice(0, -1), `${tokens[0]}x`, `AGK_${tokens[0].slice(4)}`, `${tokens[0].slice(0, 10)}+${tokens[0].slice(11)}`]) {
      expect(isWellFormedToken(bad), bad).toBe(false);
    }
    expect(isTokenId('tok_0123456789ab')).toBe(true);
    expect(isTokenId('tok_0123456789AB')).toBe(false);
    expect(isTokenId('tok_0123456789a')).toBe(false);
  });

  it('scopes round-trip through their text form, including agent ids with colons', () => {
    for (const scope of [{ kind: 'admin' } as const, { kind: 'agent', agentId: 'support-bot' } as const, { kind: 'agent', agentId: 'team:a:bot' } as const, { kind: 'approver', approver: 'alice@example.com' } as const]) {
      expect(parseScope(formatScope(scope))).toEqual(scope);
    }
    expect(formatScope({ kind: 'agent', agentId: 'x' })).toBe('agent:x');
    expect(parseScope('agent:')).toBeNull();
    expect(formatScope({ kind: 'approver', approver: 'ana' })).toBe('approver:ana');
    expect(parseScope('approver:')).toBeNull();
    expect(parseScope('approver: ana')).toBeNull();
    expect(parseScope('Admin')).toBeNull();
    expect(parseScope('root')).toBeNull();
  });

  it('refuses agent ids that an action could never carry, naming the problem', () => {
    expect(() => agentScope('')).toThrow(/it is empty/);
    expect(() => agentScope(' bot')).toThrow(/whitespace/);
    expect(() => agentScope('a\nb')).toThrow(/control characters/);
    expect(() => agentScope('x'.repeat(257))).toThrow(/257 characters long; the limit is 256/);
    expect(agentScope('x'.repeat(256))).toEqual({ kind: 'agent', agentId: 'x'.repeat(256) });
  });
});

describe('createToken', () => {
  it('stores the token hashed with its scope and name, and returns the token once', async () => {
    const { store } = await freshStore();
    const now = new Date('2025-03-01T10:00:00.000Z');
    const { token, info } = await createToken(store.tokens, { scope: { kind: 'agent', agentId: 'support-bot' }, name: 'prod', now });
    expect(isWellFormedToken(token)).toBe(true);
    expect(isTokenId(info.id)).toBe(true);
    expect(info).toEqual({ id: info.id, scope: { kind: 'agent', agentId: 'support-bot' }, name: 'prod', createdAt: now.toISOString(), lastUsedAt: null, revokedAt: null, attributes: {} });
    expect(await store.tokens.list()).toEqual([info]);
    expect(await store.tokens.get(info.id)).toEqual(info);
    expect(await store.tokens.findByHash(hashToken(token))).toEqual({ ...info, hash: hashToken(token) });
    expect(JSON.stringify(await store.tokens.list())).not.toContain(token);
    await store.close();
  });

  it('refuses names that are empty, too long or span lines', async () => {
    const { store } = await freshStore();
    for (const [name, message] of [['  ', /empty/], ['x'.repeat(201), /201 characters/], ['a\nb', /control characters/]] as const) {
      const error = await createToken(store.tokens, { scope: { kind: 'admin' }, name }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(AgentGuardError);
      expect((error as AgentGuardError).code).toBe('TOKEN_NAME_INVALID');
      expect((error as AgentGuardError).message).toMatch(message);
    }
    expect(await store.tokens.list()).toEqual([]);
    await store.close();
  });

  it('only the hash reaches the database file: the token text is nowhere in it', async () => {
    const { store, dataDir } = await freshStore();
    const created = [];
    for (let i = 0; i < 5; i++) created.push(await createToken(store.tokens, { scope: i % 2 ? { kind: 'admin' } : { kind: 'agent', agentId: `bot-${i}` } }));
    const auth = await authenticate(store.tokens, `Bearer ${created[0].token}`);
    expect(auth.ok).toBe(true);
    await store.close();

    const file = databasePath({ dataDir });
    const bytes = Buffer.concat([file, `${file}-wal`].filter(existsSync).map((f) => readFileSync(f)));
    const db = rawDb(file);
    const columns = db.prepare('SELECT * FROM api_tokens').all() as Record<string, unknown>[];
    db.close();
    expect(columns).toHaveLength(5);
    for (const { token, info } of created) {
      expect(bytes.includes(Buffer.from(hashToken(token)))).toBe(true); // the right bytes were read
      expect(bytes.includes(Buffer.from(token))).toBe(false);
      expect(bytes.includes(Buffer.from(token.slice(4)))).toBe(false);
      expect(bytes.includes(Buffer.from(token.slice(4), 'base64url'))).toBe(false);
      const row = columns.find((c) => c.id === info.id)!;
      expect(row.hash).toBe(hashToken(token));
      expect(Object.values(row)).not.toContain(token);
    }
  });
});

describe('authenticate', () => {
  it('accepts a valid token as a Bearer header value (scheme in any case), and returns its id and scope only', async () => {
    const { store } = await freshStore();
    const agent = await createToken(store.tokens, { scope: agentScope('support-bot') });
    const admin = await createToken(store.tokens, { scope: { kind: 'admin' } });
    for (const value of [`Bearer ${agent.token}`, `bearer ${agent.token}`, `BEARER ${agent.token}`, `  Bearer   ${agent.token}  `]) {
      expect(await authenticate(store.tokens, value)).toEqual({ ok: true, token: { id: agent.info.id, scope: { kind: 'agent', agentId: 'support-bot' } } });
    }
    const result = await authenticate(store.tokens, `Bearer ${admin.token}`);
    expect(result).toEqual({ ok: true, token: { id: admin.info.id, scope: { kind: 'admin' } } });
    expect(JSON.stringify(result)).not.toContain(admin.token);
    expect(JSON.stringify(result)).not.toContain(hashToken(admin.token));
    await store.close();
  });

  it('says missing for no credential and malformed for anything that is not token-shaped, without a lookup', async () => {
    const { store } = await freshStore();
    const { token } = await createToken(store.tokens, { scope: { kind: 'admin' } });
    const lookups = { n: 0 };
    const spy = spyStore(store.tokens, { findByHash: async (h) => (lookups.n++, store.tokens.findByHash(h)) });
    for (const value of [undefined, null, '', '   ', 'Bearer', 'Bearer ', 'bearer\t ']) {
      expect(await authenticate(spy, value), String(value)).toEqual({ ok: false, reason: 'missing' });
    }
    for (const value of [`Bearer ${token} extra`, `Bearer ${token}x`, `Bearer ${token.slice(0, -1)}`, `Bearer Bearer ${token}`, `Bearer\t${token}`.replace('Bearer\t', 'Bearer \t'), `Bearer ${'x'.repeat(100_000)}`]) {
      expect(await authenticate(spy, value), value.slice(0, 40)).toEqual({ ok: false, reason: 'malformed' });
    }
    // The token without the Bearer scheme, or under another scheme, is refused before any lookup: it is not a bearer credential.
    for (const value of [token, ` ${token} `, 'Bearerx', `Bearer${token}`, `bearer\t${token}`, 'abc', 'Basic dXNlcjpwYXNz', `Token ${token}`, `Basic ${token}`, `${token}x`, 'x'.repeat(100_000)]) {
      expect(await authenticate(spy, value), value.slice(0, 40)).toEqual({ ok: false, reason: 'not_bearer' });
    }
    expect(lookups.n).toBe(0);
    await store.close();
  });

  it('says unknown for a well-formed token that was never created', async () => {
    const { store } = await freshStore();
    await createToken(store.tokens, { scope: { kind: 'admin' } });
    expect(await authenticate(store.tokens, `Bearer ${generateToken()}`)).toEqual({ ok: false, reason: 'unknown' });
    await store.close();
  });

  it('compares the stored hash: a row whose hash differs or is not a digest is unknown', async () => {
    const { store } = await freshStore();
    const { token } = await createToken(store.tokens, { scope: { kind: 'admin' } });
    for (const hash of [hashToken(generateToken()), 'not hex', hashToken(token).slice(0, 63), hashToken(token).toUpperCase()]) {
      const lying = spyStore(store.tokens, { findByHash: async (h) => ({ ...(await store.tokens.findByHash(h))!, hash }) });
      expect(await authenticate(lying, `Bearer ${token}`), hash).toEqual({ ok: false, reason: 'unknown' });
    }
    await store.close();
  });

  it('says revoked once revoked, also when another connection revoked it (no cache)', async () => {
    const { store, dataDir } = await freshStore();
    const { token, info } = await createToken(store.tokens, { scope: agentScope('bot') });
    const other = await createToken(store.tokens, { scope: agentScope('bot') });
    expect((await authenticate(store.tokens, `Bearer ${token}`)).ok).toBe(true);
    const cli = await openStore({ dataDir, create: false });
    expect((await revokeToken(cli.tokens, info.id)).status).toBe('revoked');
    await cli.close();
    expect(await authenticate(store.tokens, `Bearer ${token}`)).toEqual({ ok: false, reason: 'revoked' });
    expect((await authenticate(store.tokens, `Bearer ${other.token}`)).ok).toBe(true);
    await store.close();
  });

  it('records last-used at most once a minute per token', async () => {
    const { store } = await freshStore();
    const a = await createToken(store.tokens, { scope: agentScope('a') });
    const b = await createToken(store.tokens, { scope: agentScope('b') });
    const spy = spyStore(store.tokens);
    const t0 = new Date('2025-03-01T10:00:00.000Z');
    const at = (ms: number) => ({ now: new Date(t0.getTime() + ms) });

    expect((await authenticate(spy, `Bearer ${a.token}`, at(0))).ok).toBe(true);
    expect((await store.tokens.get(a.info.id))!.lastUsedAt).toBe(t0.toISOString());
    for (let i = 1; i <= 100; i++) expect((await authenticate(spy, `Bearer ${a.token}`, at(i * 500))).ok).toBe(true); // 50 s of requests
    expect(spy.touches).toBe(1);
    expect((await store.tokens.get(a.info.id))!.lastUsedAt).toBe(t0.toISOString());

    expect((await authenticate(spy, `Bearer ${b.token}`, at(1000))).ok).toBe(true); // another token has its own minute
    expect(spy.touches).toBe(2);

    expect((await authenticate(spy, `Bearer ${a.token}`, at(LAST_USED_RESOLUTION_MS + 1))).ok).toBe(true);
    expect(spy.touches).toBe(3);
    expect((await store.tokens.get(a.info.id))!.lastUsedAt).toBe(at(LAST_USED_RESOLUTION_MS + 1).now.toISOString());
    await store.close();
  });

  it('the store writes last-used only when it is older than asked, so concurrent processes do not both write', async () => {
    const { store } = await freshStore();
    const { info } = await createToken(store.tokens, { scope: { kind: 'admin' } });
    expect(await store.tokens.touch(info.id, '2025-03-01T10:00:00.000Z', '2025-03-01T09:59:00.000Z')).toBe(true);
    expect(await store.tokens.touch(info.id, '2025-03-01T10:00:30.000Z', '2025-03-01T09:59:30.000Z')).toBe(false);
    expect(await store.tokens.touch(info.id, '2025-03-01T10:01:01.000Z', '2025-03-01T10:00:01.000Z')).toBe(true);
    expect((await store.tokens.get(info.id))!.lastUsedAt).toBe('2025-03-01T10:01:01.000Z');
    await store.close();
  });

  it('still authenticates when recording last-used fails, and reports the failure', async () => {
    const { store } = await freshStore();
    const { token } = await createToken(store.tokens, { scope: { kind: 'admin' } });
    const failing = spyStore(store.tokens, { touch: async () => Promise.reject(new Error('database is locked')) });
    const errors: unknown[] = [];
    expect((await authenticate(failing, `Bearer ${token}`, { onTouchError: (e) => errors.push(e) })).ok).toBe(true);
    expect(errors).toHaveLength(1);
    expect((errors[0] as Error).message).toBe('database is locked');
    await store.close();
  });

  it('fails closed on a row whose scope cannot be read', async () => {
    const { store, dataDir } = await freshStore();
    const { token, info } = await createToken(store.tokens, { scope: agentScope('bot') });
    const db = rawDb(databasePath({ dataDir }));
    db.prepare("UPDATE api_tokens SET scope = 'superuser' WHERE id = ?").run(info.id);
    db.close();
    const error = await authenticate(store.tokens, `Bearer ${token}`).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AgentGuardError);
    expect((error as AgentGuardError).code).toBe('TOKEN_STORE_CORRUPT');
    expect((error as AgentGuardError).message).toContain(info.id);
    expect((error as AgentGuardError).message).not.toContain(token);
    await store.close();
  });
});

describe('revokeToken', () => {
  it('revokes by id, is idempotent (keeps the first time) and finds a token by its text', async () => {
    const { store } = await freshStore();
    const a = await createToken(store.tokens, { scope: agentScope('a') });
    const b = await createToken(store.tokens, { scope: { kind: 'admin' } });
    const first = await revokeToken(store.tokens, a.info.id, new Date('2025-03-01T10:00:00.000Z'));
    expect(first).toEqual({ status: 'revoked', token: { ...a.info, revokedAt: '2025-03-01T10:00:00.000Z' } });
    const again = await revokeToken(store.tokens, a.info.id, new Date('2025-03-02T10:00:00.000Z'));
    expect(again).toEqual({ status: 'already_revoked', token: { ...a.info, revokedAt: '2025-03-01T10:00:00.000Z' } });

    const byText = await revokeToken(store.tokens, b.token);
    expect(byText.status).toBe('revoked');
    expect(byText.status !== 'not_found' && byText.token.id).toBe(b.info.id);
    expect(JSON.stringify(byText)).not.toContain(b.token);
    await store.close();
  });

  it('reports not_found for unknown ids, unknown tokens and anything else', async () => {
    const { store } = await freshStore();
    await createToken(store.tokens, { scope: { kind: 'admin' } });
    for (const value of ['tok_000000000000', generateToken(), 'nonsense', '']) {
      expect(await revokeToken(store.tokens, value)).toEqual({ status: 'not_found' });
    }
    expect((await store.tokens.list()).every((t) => t.revokedAt === null)).toBe(true);
    await store.close();
  });
});

describe('migration 2 (api_tokens)', () => {
  it('upgrades a version-1 database in place, keeping its audit log', async () => {
    const dataDir = tempDataDir('ag-tokens-v1-');
    mkdirSync(dataDir, { recursive: true });
    const file = databasePath({ dataDir });
    const old = rawDb(file);
    migrate(old, file, MIGRATIONS.slice(0, 1));
    await new SqliteAuditStore(old).append([decisionEntry(1), decisionEntry(2)]);
    expect(old.prepare("SELECT count(*) FROM sqlite_master WHERE name = 'api_tokens'").pluck().get()).toBe(0);
    old.close();

    const store = await openStore({ dataDir, create: false });
    expect((await verifyAudit(store, { publicKey: null })).ok).toBe(true);
    expect(await store.audit.count()).toBe(2);
    const { token } = await createToken(store.tokens, { scope: { kind: 'admin' } });
    expect((await authenticate(store.tokens, `Bearer ${token}`)).ok).toBe(true);
    await store.close();
    const db = rawDb(file);
    expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    expect(SCHEMA_VERSION).toBeGreaterThanOrEqual(2);
    db.close();
  });
});
