import { createRequire } from 'node:module';
import pg from 'pg';
import { afterAll, beforeAll } from 'vitest';
import { PostgresStore } from '../src/core/store/postgres/postgres-store.js';
import { openStore } from '../src/core/store/open-store.js';
import { postgresMissing, startPgCluster, type PgCluster } from './helpers/pg-cluster.js';
import { describeStoreContract } from './helpers/store-contract.js';

// The same contract for the embedded SQLite store and for the PostgreSQL store of a fleet (a private cluster started
// for this file). PostgreSQL is skipped only when its server binaries are absent; .ci/run installs them.
let cluster: PgCluster | undefined;
let databases = 0;
beforeAll(async () => {
  if (postgresMissing() === null) cluster = await startPgCluster();
}, 120_000);
afterAll(() => cluster?.stop());

describeStoreContract({
  name: 'SQLite',
  skip: () => null,
  open: async (dataDir) => ({ store: await openStore({ dataDir }), openAgain: (dir) => openStore({ dataDir: dir }) }),
  tamper: async (store, seq) => {
    const Database = createRequire(import.meta.url)('better-sqlite3') as typeof import('better-sqlite3');
    const db = new Database(store.location);
    db.prepare(`UPDATE audit_records SET data = '{"i":99}' WHERE seq = ?`).run(seq);
    db.close();
  },
});

describeStoreContract({
  name: 'PostgreSQL',
  skip: postgresMissing,
  open: async (dataDir) => {
    const url = cluster!.database(`contract_${++databases}`);
    return { store: await openStore({ dataDir, url }), openAgain: (dir) => openStore({ dataDir: dir, url }) };
  },
  tamper: async (store, seq) => {
    const { chain, db } = store as PostgresStore;
    await db.pool.query(`UPDATE audit_records SET data = '{"i":99}' WHERE chain = $1 AND seq = $2`, [chain, seq]);
  },
});
