import { mkdirSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { AgentGuardError, isAgentGuardError } from '../errors.js';
import { SqliteStore } from './sqlite/sqlite-store.js';
import type { Store } from './store.js';
import { resolveChain, resolveStoreUrl } from './store-url.js';

/** File name of the database inside the data folder. */
export const DATABASE_FILE = 'agentguard.db';

export interface OpenStoreOptions {
  /** The agentguard data folder (`loadProjectConfig().paths.dataDir`); created with mode 0700 when missing. */
  dataDir: string;
  /** Database file; relative paths are resolved against `dataDir`. Default `agentguard.db`. */
  file?: string;
  /** Create the folder and database when missing (default true). False for read-only uses such as `audit verify`. */
  create?: boolean;
  /**
   * A PostgreSQL URL (postgresql://…) to use instead of SQLite; default: `--store`, AGENTGUARD_STORE_URL or
   * `store.url` in agentguard.config.json (see store-url.ts). The data folder still holds the signing keys.
   */
  url?: string;
  /** This instance's audit chain in PostgreSQL (default: see resolveChain). */
  chain?: string;
  /**
   * Append audit entries from a worker thread with its own connection (see AuditWriterThread): true for either store,
   * 'postgres' only when the store is PostgreSQL.
   */
  auditWriterThread?: boolean | 'postgres';
}

/** Where openStore puts the database for these options. */
export function databasePath(options: Pick<OpenStoreOptions, 'dataDir' | 'file'>): string {
  const file = options.file ?? DATABASE_FILE;
  return isAbsolute(file) ? file : resolve(options.dataDir, file);
}

/**
 * Opens the store of a data folder: the SQLite database at `<dataDir>/agentguard.db`, or the PostgreSQL database a
 * store URL names (pg is loaded only then).
 *
 * @example
 * const store = await openStore({ dataDir: (await loadProjectConfig()).paths.dataDir });
 * try { console.log(await store.audit.count()); } finally { await store.close(); }
 */
export async function openStore(options: OpenStoreOptions): Promise<Store> {
  const create = options.create ?? true;
  const url = resolveStoreUrl(options.url);
  if (url !== undefined) return openPostgres(url, options, create);
  if (create) {
    try {
      mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new AgentGuardError('STORE_UNREADABLE', `cannot create the data folder ${options.dataDir}${code ? ` (${code})` : ''}`, {
        actions: ['Check the path (--data-dir, or "dataDir" in agentguard.config.json) and that this user may create it.'],
        cause: error,
      });
    }
  }
  return SqliteStore.open(databasePath(options), { create, ...(options.auditWriterThread === true ? { auditWriterThread: true } : {}) });
}

/** Opens the PostgreSQL store; `create: false` (read-only commands) refuses a database agentguard never wrote to. */
async function openPostgres(url: string, options: OpenStoreOptions, create: boolean): Promise<Store> {
  const [{ PostgresStore }, { schemaVersion }, { PgDatabase }] = await Promise.all([
    import('./postgres/postgres-store.js'),
    import('./postgres/migrations.js'),
    import('./postgres/connection.js'),
  ]);
  if (!create) {
    const probe = await PgDatabase.connect(url, { max: 1 });
    try {
      if ((await schemaVersion(probe)) === 0) {
        throw new AgentGuardError('STORE_NOT_FOUND', `no agentguard tables in ${probe.location}`, {
          actions: ['Run `agentguard store migrate` against it, or check the store URL.'],
        });
      }
    } finally {
      await probe.end();
    }
  }
  return PostgresStore.open(url, { chain: resolveChain(options.dataDir, options.chain), ...(options.auditWriterThread ? { auditWriterThread: true } : {}) });
}

/** The store of a data folder when it has one; null when nothing was recorded there yet. Creates nothing. */
export async function openExistingStore(dataDir: string): Promise<Store | null> {
  try {
    return await openStore({ dataDir, create: false });
  } catch (error) {
    if (isAgentGuardError(error) && error.code === 'STORE_NOT_FOUND') return null;
    throw error;
  }
}
