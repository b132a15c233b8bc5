import Database from 'better-sqlite3';
import { chmodSync, existsSync } from 'node:fs';
import { AgentGuardError } from '../../errors.js';
import type { Store } from '../store.js';
import { SqliteAgentStore } from './agent-store.js';
import { SqliteDeliveryStore } from './delivery-store.js';
import { SqliteApprovalStore } from './approval-store.js';
import { SqliteCostStore } from './cost-store.js';
import { GatedAuditStore } from './gated-audit-store.js';
import { SqliteMcpPinStore } from './mcp-pin-store.js';
import { SqliteSessionTaintStore } from './session-taint-store.js';
import { SqliteRateLimitStore } from './rate-limit-store.js';
import { migrate } from './migrations.js';
import { SqliteTokenStore } from './token-store.js';
import { AuditWriterThread } from '../audit-writer-thread.js';
import { WalCheckpointer, type WalCheckpointerOptions, type WalCheckpointStats } from './wal-checkpointer.js';

/** How long a writer waits for another process's write transaction before giving up. */
export const BUSY_TIMEOUT_MS = 5000;

/** Audit writes after which a store starts its background checkpointer: long-running writers, not one-shot commands. */
export const CHECKPOINTER_START_AFTER_WRITES = 256;

/** Settings of the background checkpointer (see WalCheckpointer). */
export interface BackgroundCheckpointOptions extends Omit<WalCheckpointerOptions, 'busyTimeoutMs'> {
  /** Start it once this store has made this many audit writes (default CHECKPOINTER_START_AFTER_WRITES). */
  startAfterWrites?: number;
}

export interface SqliteStoreOptions {
  /** Create the database file when it does not exist (default true). When false, a missing file is an error. */
  create?: boolean;
  /** Checkpoint the WAL from a background thread once the store writes steadily (default on); false leaves it to SQLite. */
  backgroundCheckpoints?: false | BackgroundCheckpointOptions;
  /**
   * Append audit entries from a worker thread with its own connection (default false): for long-running writers such
   * as the sidecar, whose event loop then does no validation, hashing or commit of audit records (see AuditWriterThread).
   */
  auditWriterThread?: boolean;
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
 * - Checkpoints: once the store has made CHECKPOINTER_START_AFTER_WRITES audit writes, a background thread
 *   checkpoints the WAL and keeps it bounded, and this connection's auto-checkpoint is off (see WalCheckpointer): a
 *   checkpoint copies pages and syncs files, which would otherwise stall the event loop inside one commit.
 *
 * @example
 * const store = SqliteStore.open('.agentguard/agentguard.db');
 * await store.audit.append([entry]);
 * await store.close();
 */
export class SqliteStore implements Store {
  readonly audit: GatedAuditStore;
  readonly tokens: SqliteTokenStore;
  readonly cost: SqliteCostStore;
  readonly agents: SqliteAgentStore;
  readonly approvals: SqliteApprovalStore;
  readonly deliveries: SqliteDeliveryStore;
  readonly mcpPins: SqliteMcpPinStore;
  readonly sessionTaint: SqliteSessionTaintStore;
  readonly rateLimits: SqliteRateLimitStore;
  readonly location: string;
  private readonly db: Database.Database;
  private readonly checkpointOptions: BackgroundCheckpointOptions | false;
  private writesBeforeCheckpointer: number;
  private checkpointer: WalCheckpointer | null = null;
  private readonly writer: AuditWriterThread | null;
  private closed = false;

  private constructor(db: Database.Database, location: string, checkpointOptions: BackgroundCheckpointOptions | false, writerThread: boolean) {
    this.db = db;
    this.location = location;
    this.checkpointOptions = checkpointOptions;
    this.writesBeforeCheckpointer = checkpointOptions ? (checkpointOptions.startAfterWrites ?? CHECKPOINTER_START_AFTER_WRITES) : Infinity;
    this.writer = writerThread ? AuditWriterThread.start({ store: 'sqlite', file: location, busyTimeoutMs: BUSY_TIMEOUT_MS }) : null;
    this.audit = new GatedAuditStore(db, () => this.beforeAuditWrite(), () => this.writer);
    this.tokens = new SqliteTokenStore(db);
    this.cost = new SqliteCostStore(db);
    this.agents = new SqliteAgentStore(db);
    this.approvals = new SqliteApprovalStore(db);
    this.deliveries = new SqliteDeliveryStore(db);
    this.mcpPins = new SqliteMcpPinStore(db);
    this.sessionTaint = new SqliteSessionTaintStore(db);
    this.rateLimits = new SqliteRateLimitStore(db);
  }

  /** Opens (and by default creates) the database at `file`, applies the settings above and migrates it. */
  static open(file: string, options: SqliteStoreOptions = {}): SqliteStore {
    const create = options.create ?? true;
    const isNew = !existsSync(file);
    if (isNew && !create) {
      throw new AgentGuardError('STORE_NOT_FOUND', `no agentguard database at ${file}`, {
        actions: ['Check --data-dir (or "dataDir" in agentguard.config.json); the database is created when the first decision is recorded.'],
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
      return new SqliteStore(db, file, options.backgroundCheckpoints ?? {}, options.auditWriterThread ?? false);
    } catch (error) {
      db?.close();
      if (error instanceof AgentGuardError) throw error;
      throw unreadable(file, error);
    }
  }

  /** What the background checkpointer has done, or null when it has not started. */
  checkpointStats(): WalCheckpointStats | null {
    return this.checkpointer?.stats() ?? null;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.writer?.stop();
    } finally {
      try {
        await this.checkpointer?.stop();
      } finally {
        this.db.close();
      }
    }
  }

  private beforeAuditWrite(): Promise<void> | null {
    if (this.checkpointer) return this.checkpointer.writable();
    if (this.checkpointOptions && --this.writesBeforeCheckpointer <= 0 && !this.closed) {
      const writer = this.writer;
      this.checkpointer = WalCheckpointer.start(this.db, this.location, {
        ...this.checkpointOptions,
        busyTimeoutMs: BUSY_TIMEOUT_MS,
        ...(writer ? { writerBusy: () => writer.busy, onAutoCheckpoint: (pages: number) => writer.autoCheckpoint(pages) } : {}),
      });
    }
    return null;
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
    cause: error,
  });
}
