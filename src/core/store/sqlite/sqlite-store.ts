import Database from 'better-sqlite3';
import { chmodSync, existsSync } from 'node:fs';
import { AgentGuardError } from '../../errors.js';
import type { Store } from '../store.js';
import { SqliteAgentStore } from './agent-store.js';
import { SqliteDeliveryStore } from './delivery-store.js';
import { SqliteApprovalStore } from './approval-store.js';
import { SqliteAuditStore } from './audit-store.js';
import { SqliteCostStore } from './cost-store.js';
import { migrate } from './migrations.js';
import { SqliteTokenStore } from './token-store.js';

/** How long a writer waits for another process's write transaction before giving up. */
export const BUSY_TIMEOUT_MS = 5000;

export interface SqliteStoreOptions {
  /** Create the database file when it does not exist (default true). When false, a missing file is an error. */
  create?: boolean;
}

/**
 * The SQLite implementation of Store (better-sqlite3).
 *
 * Settings, and why:
 * - `journal_mode = WAL`: readers never block the writer, so the CLI can query while a long-running process records.
 * - `busy_timeout = 5000`: a writer waits for another process's transaction instead of failing at once.
 * - `synchronous = NORMAL`: in WAL mode a committed transaction survives a crash of the process (even SIGKILL),
 *   but the last transactions may be lost on power failure or an OS crash, because the WAL is synced to disk at
 *   checkpoints rather than at every commit. FULL would sync every commit and cut append throughput by an order of
 *   magnitude on this class of machine.
 *
 * @example
 * const store = SqliteStore.open('.agentguard/agentguard.db');
 * await store.audit.append([entry]);
 * await store.close();
 */
export class SqliteStore implements Store {
  readonly audit: SqliteAuditStore;
  readonly tokens: SqliteTokenStore;
  readonly cost: SqliteCostStore;
  readonly agents: SqliteAgentStore;
  readonly approvals: SqliteApprovalStore;
  readonly deliveries: SqliteDeliveryStore;
  readonly location: string;
  private readonly db: Database.Database;
  private closed = false;

  private constructor(db: Database.Database, location: string) {
    this.db = db;
    this.location = location;
    this.audit = new SqliteAuditStore(db);
    this.tokens = new SqliteTokenStore(db);
    this.cost = new SqliteCostStore(db);
    this.agents = new SqliteAgentStore(db);
    this.approvals = new SqliteApprovalStore(db);
    this.deliveries = new SqliteDeliveryStore(db);
  }

  /** Opens (and by default creates) the database at `file`, applies the settings above and migrates it. */
  static open(file: string, options: SqliteStoreOptions = {}): SqliteStore {
    const create = options.create ?? true;
    const isNew = !existsSync(file);
    if (isNew && !create) {
      throw new AgentGuardError('STORE_NOT_FOUND', `no agentguard database at ${file}`, {
        actions: ['Check --data-dir (or "dataDir" in agentguard.config.json); the database is created when the first decision is recorded.'],
        exitCode: 2,
      });
    }
    let db: Database.Database | undefined;
    try {
      db = new Database(file, { fileMustExist: !create });
      if (isNew) chmodSync(file, 0o600);
      db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
      const mode = db.pragma('journal_mode = WAL', { simple: true });
      if (mode !== 'wal') throw new Error(`journal_mode is ${String(mode)}, not wal`);
      db.pragma('synchronous = NORMAL');
      migrate(db, file);
      return new SqliteStore(db, file);
    } catch (error) {
      db?.close();
      if (error instanceof AgentGuardError) throw error;
      throw unreadable(file, error);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.db.close();
  }
}

function unreadable(file: string, error: unknown): AgentGuardError {
  const code = (error as { code?: string }).code;
  const hint =
    code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT'
      ? 'Restore the file from a backup; agentguard cannot repair it.'
      : code === 'SQLITE_CANTOPEN' || code === 'SQLITE_READONLY' || code === 'SQLITE_PERM'
        ? 'Check that the folder exists and that this user may read and write it.'
        : code === 'SQLITE_BUSY'
          ? 'Another process holds the database locked; try again when it is done.'
          : 'Check the file, or re-run with --debug for details.';
  return new AgentGuardError('STORE_UNREADABLE', `cannot open the agentguard database ${file}: ${(error as Error).message}${code ? ` (${code})` : ''}`, {
    actions: [hint],
    exitCode: 2,
    cause: error,
  });
}
