import { resolve } from 'node:path';
import { Flags } from '@oclif/core';
import { loadProjectConfig } from '../core/config/project-config.js';
import { selectStoreUrl } from '../core/store/store-url.js';

/**
 * The `--data-dir` and `--store` flags shared by every command that reads or writes the agentguard data folder.
 * `--store` selects the PostgreSQL store for the whole command as it is parsed (see core/store/store-url.ts), so every
 * store the command opens, however deep, uses it; the data folder still holds the signing keys.
 */
export const dataDirFlag = {
  'data-dir': Flags.string({ description: 'The agentguard data folder (default: "dataDir" from agentguard.config.json, else .agentguard).', helpValue: '<folder>' }),
  store: Flags.string({
    description: 'A PostgreSQL store shared by a fleet, postgresql://user:password@host:5432/db, instead of SQLite in the data folder (default: AGENTGUARD_STORE_URL, else "store.url" in agentguard.config.json).',
    helpValue: '<url>',
    parse: async (url) => {
      selectStoreUrl(url);
      return url;
    },
  }),
};

/** The data folder a command works on: `--data-dir` when given, else the project's, as an absolute path. */
export async function resolveDataDir(flag: string | undefined): Promise<string> {
  return flag === undefined ? (await loadProjectConfig()).paths.dataDir : resolve(flag);
}
