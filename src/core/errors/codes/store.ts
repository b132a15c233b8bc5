import { defineErrors } from '../spec.js';

/** Errors of the SQLite database in the data folder. */
export const STORE_ERRORS = defineErrors({
  STORE_NOT_FOUND: {
    status: 500,
    exit: 2,
    meaning: 'There is no agentguard database in the data folder.',
    fix: 'Run the command in the project (or pass --data-dir <folder>); the database is created when the first decision is recorded.',
  },
  STORE_UNREADABLE: {
    status: 500,
    exit: 2,
    meaning: 'The data folder or its database cannot be created or opened.',
    fix: 'Check that the folder exists and that this user may read and write it.',
  },
  STORE_FOREIGN: {
    status: 500,
    exit: 2,
    meaning: 'The database file is an SQLite database, but not agentguard\'s; it is left untouched.',
    fix: 'Point --data-dir at an agentguard data folder, or move the file away.',
  },
  STORE_TOO_NEW: {
    status: 500,
    exit: 2,
    meaning: 'The database was written by a newer agentguard than this one.',
    fix: 'Upgrade agentguard to the version that wrote the database.',
  },
  STORE_MIGRATION_FAILED: {
    status: 500,
    exit: 2,
    meaning: 'The database schema cannot be brought up to this version.',
    fix: 'Report this at the project issue tracker with the message; keep a copy of the database.',
  },
  STORE_UNAVAILABLE: {
    status: 503,
    exit: 2,
    meaning: 'The PostgreSQL store cannot be reached; decisions that need it are denied until it is back.',
    fix: 'Check that PostgreSQL runs and that the store URL (--store, AGENTGUARD_STORE_URL or "store.url" in agentguard.config.json) points at it.',
  },
  STORE_URL_INVALID: {
    status: 500,
    exit: 2,
    meaning: 'The store URL is not a postgres:// or postgresql:// URL.',
    fix: 'Write the URL as postgresql://user:password@host:5432/database, or leave it out to use the SQLite database in the data folder.',
  },
  STORE_COPY_REFUSED: {
    status: 409,
    exit: 1,
    meaning: 'A local store was not copied into PostgreSQL: its audit log does not verify, the copy did not verify, or the target already holds that data.',
    fix: 'Run `agentguard audit verify` on the local store and resolve what it reports; copy into an empty chain (another AGENTGUARD_STORE_CHAIN) or an empty database.',
  },
  STORE_POLICY_NOT_FOUND: {
    status: 404,
    exit: 2,
    meaning: 'The store has no pushed policy (or not the version asked for), so --policy-from-store or policy rollback has nothing to load.',
    fix: 'Push one with `agentguard policy push <file>`; `agentguard policy history` lists the versions.',
  },
  TOKEN_STORE_CORRUPT: {
    status: 500,
    exit: 2,
    meaning: 'A stored API token has a scope or attributes agentguard cannot read.',
    fix: 'Revoke the token named in the message with `agentguard token revoke <id>` and create a new one.',
  },
});
