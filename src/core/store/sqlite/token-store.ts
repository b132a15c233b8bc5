import type { Database, Statement } from 'better-sqlite3';
import { AgentGuardError } from '../../errors.js';
import { parseStoredAttributes } from '../../tokens/attributes.js';
import { formatScope, parseScope } from '../../tokens/scope.js';
import type { RevokeOutcome, StoredToken, TokenInfo, TokenStore } from '../../tokens/types.js';

interface TokenRow {
  id: string;
  hash: string;
  scope: string;
  name: string | null;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
  attributes: string | null;
}

export const INFO_COLUMNS = 'id, scope, name, created_at AS createdAt, last_used_at AS lastUsedAt, revoked_at AS revokedAt, attributes';

/**
 * API tokens in SQLite (table `api_tokens`, migration 2; `attributes`, a JSON object or NULL, migration 8). Holds hashes only. Every statement is prepared once:
 * findByHash runs on every authenticated request.
 */
export class SqliteTokenStore implements TokenStore {
  private readonly insertStmt: Statement;
  private readonly byHashStmt: Statement<[string], TokenRow>;
  private readonly byIdStmt: Statement<[string], TokenRow>;
  private readonly listStmt: Statement<[], TokenRow>;
  private readonly revokeStmt: Statement<[string, string]>;
  private readonly touchStmt: Statement<[string, string, string]>;
  private readonly revokeTx: (id: string, time: string) => RevokeOutcome;

  constructor(db: Database) {
    this.insertStmt = db.prepare(
      'INSERT INTO api_tokens (id, hash, scope, name, created_at, last_used_at, revoked_at, attributes) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    );
    this.byHashStmt = db.prepare(`SELECT hash, ${INFO_COLUMNS} FROM api_tokens WHERE hash = ?`);
    this.byIdStmt = db.prepare(`SELECT ${INFO_COLUMNS} FROM api_tokens WHERE id = ?`);
    this.listStmt = db.prepare(`SELECT ${INFO_COLUMNS} FROM api_tokens ORDER BY created_at, id`);
    this.revokeStmt = db.prepare('UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL');
    this.touchStmt = db.prepare('UPDATE api_tokens SET last_used_at = ? WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ?)');
    const tx = db.transaction((id: string, time: string): RevokeOutcome => {
      const changed = this.revokeStmt.run(time, id).changes > 0;
      const row = this.byIdStmt.get(id);
      if (row === undefined) return { status: 'not_found' };
      return { status: changed ? 'revoked' : 'already_revoked', token: toInfo(row) };
    });
    this.revokeTx = (id, time) => tx.immediate(id, time);
  }

  async insert(token: StoredToken): Promise<void> {
    const attributes = token.attributes && Object.keys(token.attributes).length > 0 ? JSON.stringify(token.attributes) : null;
    this.insertStmt.run(token.id, token.hash, formatScope(token.scope), token.name, token.createdAt, token.lastUsedAt, token.revokedAt, attributes);
  }

  async findByHash(hash: string): Promise<StoredToken | null> {
    const row = this.byHashStmt.get(hash);
    return row === undefined ? null : { ...toInfo(row), hash: row.hash };
  }

  async get(id: string): Promise<TokenInfo | null> {
    const row = this.byIdStmt.get(id);
    return row === undefined ? null : toInfo(row);
  }

  async list(): Promise<TokenInfo[]> {
    return this.listStmt.all().map(toInfo);
  }

  async revoke(id: string, time: string): Promise<RevokeOutcome> {
    return this.revokeTx(id, time);
  }

  async touch(id: string, time: string, olderThan: string): Promise<boolean> {
    return this.touchStmt.run(time, id, olderThan).changes > 0;
  }
}

export function toInfo(row: TokenRow): TokenInfo {
  const scope = parseScope(row.scope);
  if (scope === null) {
    // Only a hand-edited database gets here. Refusing is fail-closed: a token whose scope cannot be read grants nothing.
    throw new AgentGuardError('TOKEN_STORE_CORRUPT', `api_tokens row ${JSON.stringify(row.id)} has a scope that is not "admin" or "agent:<id>"`, {
      actions: [
        `Delete the row (\`sqlite3 <data-dir>/agentguard.db "DELETE FROM api_tokens WHERE id = '${row.id.replace(/'/g, "''")}'"\`) and create a new token with \`agentguard token create\`.`,
        'Find out who could edit the database.',
      ],
    });
  }
  const attributes = parseStoredAttributes(row.attributes);
  if (attributes === null) {
    // Fail closed like a bad scope: attributes that cannot be read would bind nothing and let the agent choose.
    throw new AgentGuardError('TOKEN_STORE_CORRUPT', `api_tokens row ${JSON.stringify(row.id)} has attributes that are not a JSON object of agent.<name> / context.<name> strings`, {
      actions: ['Revoke the token (`agentguard token revoke`) and create a new one with the attributes it needs (`--attr`).', 'Find out who could edit the database.'],
    });
  }
  return { id: row.id, scope, name: row.name, createdAt: row.createdAt, lastUsedAt: row.lastUsedAt, revokedAt: row.revokedAt, attributes };
}
