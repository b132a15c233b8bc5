import type { Database, Statement } from 'better-sqlite3';
import { AgentGuardError } from '../../errors.js';
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
}

const INFO_COLUMNS = 'id, scope, name, created_at AS createdAt, last_used_at AS lastUsedAt, revoked_at AS revokedAt';

/**
 * API tokens in SQLite (table `api_tokens`, migration 2). Holds hashes only. Every statement is prepared once:
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
      'INSERT INTO api_tokens (id, hash, scope, name, created_at, last_used_at, revoked_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
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
    this.insertStmt.run(token.id, token.hash, formatScope(token.scope), token.name, token.createdAt, token.lastUsedAt, token.revokedAt);
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

function toInfo(row: TokenRow): TokenInfo {
  const scope = parseScope(row.scope);
  if (scope === null) {
    // Only a hand-edited database gets here. Refusing is fail-closed: a token whose scope cannot be read grants nothing.
    throw new AgentGuardError('TOKEN_STORE_CORRUPT', `api_tokens row ${JSON.stringify(row.id)} has a scope that is not "admin" or "agent:<id>"`, {
      actions: [
        `Delete the row (\`sqlite3 <data-dir>/agentguard.db "DELETE FROM api_tokens WHERE id = '${row.id.replace(/'/g, "''")}'"\`) and create a new token with \`agentguard token create\`.`,
        'Find out who could edit the database.',
      ],
      exitCode: 2,
    });
  }
  return { id: row.id, scope, name: row.name, createdAt: row.createdAt, lastUsedAt: row.lastUsedAt, revokedAt: row.revokedAt };
}
