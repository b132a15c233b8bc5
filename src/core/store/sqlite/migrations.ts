import type { Database } from 'better-sqlite3';
import { AgentGuardError } from '../../errors.js';

/**
 * Versioned schema migrations, tracked in `PRAGMA user_version`. Each migration runs in its own `BEGIN IMMEDIATE`
 * transaction that re-reads the version first, so two processes opening a new database at once migrate it once.
 * Append new migrations at the end; never edit one that has shipped.
 */

/** `PRAGMA application_id` of agentguard databases ("AGRD"), so a foreign SQLite file is refused, not altered. */
export const APPLICATION_ID = 0x41475244;

/** One schema step: `sql` takes the database from `version - 1` to `version`. */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** Every migration, in order. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'audit records and checkpoints',
    sql: `
      CREATE TABLE audit_records (
        seq         INTEGER PRIMARY KEY,
        time        TEXT NOT NULL,
        type        TEXT NOT NULL,
        agent_id    TEXT,
        decision_id TEXT,
        effect      TEXT,
        rules       TEXT NOT NULL,  -- canonical JSON array of rule ids
        data        TEXT NOT NULL,  -- canonical JSON object
        prev_hash   TEXT NOT NULL,
        hash        TEXT NOT NULL
      );
      -- Indexes for the query filters whose values arrive in order, so appends touch only the last pages of each.
      -- No index on decision_id: decision ids are random, and such an index halved append throughput (every
      -- insert dirties a random page); lookups by decision id scan, narrowed by time when given.
      CREATE INDEX audit_records_time ON audit_records (time);
      CREATE INDEX audit_records_agent ON audit_records (agent_id, seq);
      CREATE INDEX audit_records_effect ON audit_records (effect, seq);
      CREATE TABLE audit_checkpoints (
        id        INTEGER PRIMARY KEY,
        seq       INTEGER NOT NULL,
        hash      TEXT NOT NULL,
        time      TEXT NOT NULL,
        key_id    TEXT NOT NULL,
        signature TEXT NOT NULL
      );
      CREATE INDEX audit_checkpoints_seq ON audit_checkpoints (seq);
    `,
  },
  {
    version: 2,
    name: 'api tokens',
    sql: `
      -- Bearer tokens of the sidecar. Only the SHA-256 of a token is stored, never the token itself.
      CREATE TABLE api_tokens (
        id           TEXT PRIMARY KEY,      -- public id, tok_<12 hex>
        hash         TEXT NOT NULL UNIQUE,  -- hex SHA-256 of the token; UNIQUE is the lookup index
        scope        TEXT NOT NULL,         -- 'admin' or 'agent:<agent id>'
        name         TEXT,
        created_at   TEXT NOT NULL,
        last_used_at TEXT,                  -- updated at most once a minute per token
        revoked_at   TEXT
      );
    `,
  },
];

/** The schema version this build writes. */
export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1].version;

/** Brings the database at `location` up to SCHEMA_VERSION; refuses databases that are foreign or newer. */
export function migrate(db: Database, location: string, migrations: readonly Migration[] = MIGRATIONS): void {
  const latest = migrations[migrations.length - 1].version;
  checkCompatible(db, location, latest);
  for (const migration of migrations) {
    if (userVersion(db) >= migration.version) continue;
    db.transaction(() => {
      const current = userVersion(db);
      if (current >= migration.version) return; // another process got here first
      if (current !== migration.version - 1) {
        throw new AgentGuardError('STORE_MIGRATION_FAILED', `${location}: schema version ${current} cannot be migrated to ${migration.version} (missing step)`, { exitCode: 2 });
      }
      db.exec(migration.sql);
      db.pragma(`application_id = ${APPLICATION_ID}`);
      db.pragma(`user_version = ${migration.version}`);
    }).immediate();
  }
}

function checkCompatible(db: Database, location: string, latest: number): void {
  const appId = db.pragma('application_id', { simple: true }) as number;
  const version = userVersion(db);
  const hasTables = (db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table'").get() as { n: number }).n > 0;
  if ((appId !== 0 && appId !== APPLICATION_ID) || (appId === 0 && hasTables)) {
    throw new AgentGuardError('STORE_FOREIGN', `${location} is an SQLite database, but not an agentguard one; refusing to change it`, {
      actions: ['Point agentguard at another data folder (--data-dir, or "dataDir" in agentguard.config.json), or move the file away.'],
      exitCode: 2,
    });
  }
  if (version > latest) {
    throw new AgentGuardError('STORE_TOO_NEW', `${location} was written by a newer agentguard (schema version ${version}; this version knows up to ${latest})`, {
      actions: ['Upgrade agentguard (`npm install agentguard@latest`) everywhere that uses this data folder.'],
      exitCode: 2,
    });
  }
}

function userVersion(db: Database): number {
  return db.pragma('user_version', { simple: true }) as number;
}
