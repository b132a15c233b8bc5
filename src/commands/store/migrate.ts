import { Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import { dataDirFlag, resolveDataDir } from '../../cli/data-dir.js';
import { paint } from '../../cli/style.js';
import { AgentGuardError } from '../../core/errors.js';
import type { CopyReport } from '../../core/store/postgres/copy.js';

/** `--json` output of `store migrate`. */
export interface StoreMigrateResult {
  /** The store, without credentials. */
  store: string;
  kind: 'sqlite' | 'postgres';
  /** Schema version before and after. */
  from: number;
  to: number;
  /** The migrations this run applied (none when the store was up to date). */
  applied: Array<{ version: number; name: string }>;
  /** With --from: what was copied from the local SQLite store, and the audit verified on both sides. */
  copied?: CopyReport;
}

export default class StoreMigrate extends BaseCommand {
  static summary = 'Create or update the tables of the PostgreSQL store; optionally copy a local SQLite store into it.';
  static description = `Applies the store's versioned migrations. Idempotent: a store that is up to date is left as it is. Safe to run from several instances at once: migrations hold a PostgreSQL advisory lock, so one instance migrates and the others wait and find it done. Every instance also migrates on start, so running this is only needed to migrate ahead of a rollout or with a user that may change the schema.

The store is --store, else AGENTGUARD_STORE_URL, else "store.url" in agentguard.config.json; without any of them this migrates the SQLite database of the data folder.

With --from <agentguard.db>, copies a local SQLite store into the PostgreSQL store (moving a laptop setup up to a fleet): tokens, approvals and their deliveries, the cost ledger, budget reservations and alerts, agents, MCP pins, session taint and the audit log with its checkpoints, which becomes one chain of the PostgreSQL store. The audit log is verified before copying and the copied chain after; the copy refuses a target chain that already has records.`;

  static examples = [
    { description: 'Migrate the store named in agentguard.config.json', command: '<%= config.bin %> <%= command.id %>' },
    { description: 'Migrate a given PostgreSQL store', command: '<%= config.bin %> <%= command.id %> --store postgresql://agentguard@db.internal:5432/agentguard' },
    { description: 'Move a local store up to PostgreSQL', command: '<%= config.bin %> <%= command.id %> --from .agentguard/agentguard.db --store postgresql://agentguard@db.internal:5432/agentguard' },
  ];

  static flags = {
    from: Flags.string({ description: 'A local SQLite store (agentguard.db) to copy into the PostgreSQL store, audit verified before and after.', helpValue: '<file>' }),
    to: Flags.string({ description: 'The PostgreSQL store to copy into (same as --store).', helpValue: '<url>' }),
    ...dataDirFlag,
  };

  async run(): Promise<StoreMigrateResult> {
    const { flags } = await this.parse(StoreMigrate);
    const dataDir = await resolveDataDir(flags['data-dir']);
    const { resolveStoreUrl, resolveChain } = await import('../../core/store/store-url.js');
    const url = resolveStoreUrl(flags.to);
    if (url === undefined) {
      if (flags.from !== undefined) {
        throw new AgentGuardError('USAGE', '--from copies into a PostgreSQL store, and none is given', {
          actions: ['Pass --to postgresql://… (or --store, AGENTGUARD_STORE_URL, "store.url" in agentguard.config.json).'],
        });
      }
      const [{ SqliteStore }, { SCHEMA_VERSION }, { databasePath }] = await Promise.all([
        import('../../core/store/sqlite/sqlite-store.js'),
        import('../../core/store/sqlite/migrations.js'),
        import('../../core/store/open-store.js'),
      ]);
      const file = databasePath({ dataDir });
      const before = await sqliteVersion(file);
      const store = SqliteStore.open(file);
      await store.close();
      const result: StoreMigrateResult = { store: file, kind: 'sqlite', from: before, to: SCHEMA_VERSION, applied: [] };
      if (!this.jsonEnabled()) process.stdout.write(`${paint.green('SQLite store up to date')}: ${file} (schema ${before} → ${SCHEMA_VERSION})\n`);
      return result;
    }
    const { PostgresStore } = await import('../../core/store/postgres/postgres-store.js');
    const store = await PostgresStore.open(url, { chain: resolveChain(dataDir), migrate: false });
    let result: StoreMigrateResult;
    try {
      const report = await store.migrate();
      result = { store: store.database, kind: 'postgres', ...report };
      if (flags.from !== undefined) {
        const { copySqliteStore } = await import('../../core/store/postgres/copy.js');
        result.copied = await copySqliteStore(flags.from, store, dataDir, (line) => this.note(line));
      }
    } finally {
      await store.close();
    }
    if (!this.jsonEnabled()) {
      const steps = result.applied.length === 0 ? 'nothing to apply' : result.applied.map((m) => `${m.version} ${m.name}`).join(', ');
      process.stdout.write(`${paint.green('PostgreSQL store up to date')}: ${result.store} (schema ${result.from} → ${result.to}; ${steps})\n`);
      if (result.copied) process.stdout.write(`Copied ${flags.from}: ${Object.entries(result.copied.rows).map(([t, n]) => `${n} ${t}`).join(', ')}; audit chain ${result.copied.chain} verified (${result.copied.verified.records} records).\n`);
    }
    return result;
  }
}

async function sqliteVersion(file: string): Promise<number> {
  const { existsSync } = await import('node:fs');
  if (!existsSync(file)) return 0;
  const { createRequire } = await import('node:module');
  const Database = createRequire(import.meta.url)('better-sqlite3') as typeof import('better-sqlite3');
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return db.pragma('user_version', { simple: true }) as number;
  } finally {
    db.close();
  }
}
