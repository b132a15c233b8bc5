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
  TOKEN_STORE_CORRUPT: {
    status: 500,
    exit: 2,
    meaning: 'A stored API token has a scope or attributes agentguard cannot read.',
    fix: 'Revoke the token named in the message with `agentguard token revoke <id>` and create a new one.',
  },
});
