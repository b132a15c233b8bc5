import { formatScope } from '../../tokens/scope.js';
import type { RevokeOutcome, StoredToken, TokenInfo, TokenStore } from '../../tokens/types.js';
import { INFO_COLUMNS, toInfo } from '../sqlite/token-store.js';
import { quoteAliases, type PgDatabase } from './connection.js';

const INFO = quoteAliases(INFO_COLUMNS);

/**
 * API tokens in PostgreSQL (hashes only), shared by every instance. A revocation is one conditional UPDATE; the
 * sidecar's token cache (core/tokens/cached-authenticate.ts) keeps a hit for at most a second, and is cleared at once
 * when the store's change feed says a token was revoked (see PostgresStore.onChange).
 */
export class PostgresTokenStore implements TokenStore {
  constructor(
    private readonly db: PgDatabase,
    private readonly notify: (channel: string, payload: string) => Promise<void>,
  ) {}

  async insert(token: StoredToken): Promise<void> {
    const attributes = token.attributes && Object.keys(token.attributes).length > 0 ? JSON.stringify(token.attributes) : null;
    await this.db.query(
      'INSERT INTO api_tokens (id, hash, scope, name, created_at, last_used_at, revoked_at, attributes) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)',
      [token.id, token.hash, formatScope(token.scope), token.name, token.createdAt, token.lastUsedAt, token.revokedAt, attributes],
    );
  }

  async findByHash(hash: string): Promise<StoredToken | null> {
    const row = (await this.db.query(`SELECT hash, ${INFO} FROM api_tokens WHERE hash = $1`, [hash]))[0];
    return row === undefined ? null : { ...toInfo(row as never), hash: row.hash as string };
  }

  async get(id: string): Promise<TokenInfo | null> {
    const row = (await this.db.query(`SELECT ${INFO} FROM api_tokens WHERE id = $1`, [id]))[0];
    return row === undefined ? null : toInfo(row as never);
  }

  async list(): Promise<TokenInfo[]> {
    return (await this.db.query(`SELECT ${INFO} FROM api_tokens ORDER BY created_at, id`)).map((row) => toInfo(row as never));
  }

  async revoke(id: string, time: string): Promise<RevokeOutcome> {
    const changed = (await this.db.query('UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL RETURNING id', [time, id])).length > 0;
    const token = await this.get(id);
    if (token === null) return { status: 'not_found' };
    if (changed) await this.notify('tokens', id);
    return { status: changed ? 'revoked' : 'already_revoked', token };
  }

  async touch(id: string, time: string, olderThan: string): Promise<boolean> {
    const rows = await this.db.query('UPDATE api_tokens SET last_used_at = $1 WHERE id = $2 AND (last_used_at IS NULL OR last_used_at < $3) RETURNING id', [time, id, olderThan]);
    return rows.length > 0;
  }
}
