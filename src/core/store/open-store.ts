import { mkdirSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { AgentGuardError, isAgentGuardError } from '../errors.js';
import { SqliteStore } from './sqlite/sqlite-store.js';
import type { Store } from './store.js';

/** File name of the database inside the data folder. */
export const DATABASE_FILE = 'agentguard.db';

export interface OpenStoreOptions {
  /** The agentguard data folder (`loadProjectConfig().paths.dataDir`); created with mode 0700 when missing. */
  dataDir: string;
  /** Database file; relative paths are resolved against `dataDir`. Default `agentguard.db`. */
  file?: string;
  /** Create the folder and database when missing (default true). False for read-only uses such as `audit verify`. */
  create?: boolean;
}

/** Where openStore puts the database for these options. */
export function databasePath(options: Pick<OpenStoreOptions, 'dataDir' | 'file'>): string {
  const file = options.file ?? DATABASE_FILE;
  return isAbsolute(file) ? file : resolve(options.dataDir, file);
}

/**
 * Opens the store of a data folder: today one SQLite database at `<dataDir>/agentguard.db`.
 *
 * @example
 * const store = await openStore({ dataDir: (await loadProjectConfig()).paths.dataDir });
 * try { console.log(await store.audit.count()); } finally { await store.close(); }
 */
export async function openStore(options: OpenStoreOptions): Promise<Store> {
  const create = options.create ?? true;
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
  return SqliteStore.open(databasePath(options), { create });
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
