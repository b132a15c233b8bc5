import fc from 'fast-check';
import pg, { type PoolClient } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkpointOfRecordData, EMPTY_HEAD, signLinkedCheckpoint } from '../src/core/audit/checkpoint.js';
import { loadOrCreateSigningKeys, type SigningKeys } from '../src/core/audit/keys.js';
import type { AuditEntry, AuditRecord } from '../src/core/audit/types.js';
import { verifyAudit } from '../src/core/audit/verify.js';
import { PostgresAuditStore } from '../src/core/store/postgres/audit-store.js';
import { PgDatabase } from '../src/core/store/postgres/connection.js';
import { migratePostgres, PG_MIGRATIONS } from '../src/core/store/postgres/migrations.js';
import { decisionEntry, tempDataDir } from './helpers/audit-log.js';
import { postgresMissing, startPgCluster, type PgCluster } from './helpers/pg-cluster.js';

// The one-statement audit append of the PostgreSQL store (agentguard_audit_append, PG migration 9) against the
// transaction path it replaces in the steady state. PostgreSQL is skipped only when its server binaries are absent;
// .ci/run installs them.
const missing = postgresMissing();
let cluster: PgCluster | undefined;
const opened: PgDatabase[] = [];
let keys: SigningKeys;
beforeAll(async () => {
  keys = loadOrCreateSigningKeys(tempDataDir('ag-pg-fast-'));
  if (missing === null) cluster = await startPgCluster();
}, 120_000);
afterAll(async () => {
  for (const db of opened.splice(0)) await db.end().catch(() => {});
  cluster?.stop();
});

/** Statements sent to the database on every connection of a pool (a test-side wrap of each client's query). */
interface Counter {
  statements: string[];
}

interface Opened {
  db: PgDatabase;
  counter: Counter;
  url: string;
}

/** A pool on a new database of the cluster, migrated up to `schema`. */
async function database(name: string, schema = PG_MIGRATIONS.length): Promise<Opened> {
  const opened = await connect(cluster!.database(name));
  await migratePostgres(opened.db, PG_MIGRATIONS.slice(0, schema));
  opened.counter.statements.length = 0;
  return opened;
}

/** Another pool on a database (another instance). */
async function connect(url: string): Promise<Opened> {
  const db = await PgDatabase.connect(url);
  opened.push(db);
  return { db, counter: count(db), url };
}

function count(db: PgDatabase): Counter {
  const counter: Counter = { statements: [] };
  const wrap = (client: PoolClient) => {
    const query = client.query.bind(client) as (...args: unknown[]) => unknown;
    (client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
      const text = typeof args[0] === 'string' ? args[0] : (args[0] as { text: string }).text;
      counter.statements.push(text.trim());
      return query(...args);
    };
  };
  db.pool.on('connect', wrap);
  return counter;
}

/** Signs the head of a chain as the recorder does (a linked checkpoint), from any store of that chain. */
function signHead(audit: PostgresAuditStore, time = new Date()) {
  return audit.signHead((head, latest) => signLinkedCheckpoint(head ?? EMPTY_HEAD, keys, { previous: latest, intervalMs: 0, reason: 'manual' }, time));
}

async function storedRows(db: PgDatabase, chain: string) {
  return db.query('SELECT seq::text AS seq, time, type, agent_id, decision_id, effect, rules, data, prev_hash, hash FROM audit_records WHERE chain = $1 ORDER BY audit_records.seq', [chain]);
}

async function expectVerified(audit: PostgresAuditStore) {
  const result = await verifyAudit(audit, { publicKey: keys });
  expect(result.problems).toEqual([]);
  expect(result.ok).toBe(true);
  return result;
}

const batch = (from: number, size: number): AuditEntry[] => Array.from({ length: size }, (_, k) => decisionEntry(from + k));
const isAppend = (statement: string) => statement.includes('agentguard_audit_append');

describe.skipIf(missing !== null)('PostgreSQL audit append in one statement', () => {
  it('writes, one statement per append once the head is known, the same records the transaction path writes', async () => {
    const fast = await database('fast_same');
    const old = await database('fast_same_old', 8);
    const a = new PostgresAuditStore(fast.db, 'node-1');
    const b = new PostgresAuditStore(old.db, 'node-1');
    const sizes = [3, 1, 4, 1, 5, 9, 2, 6];
    let n = 0;
    const perAppend: number[] = [];
    for (const [i, size] of sizes.entries()) {
      const entries = batch(n, size);
      n += size;
      const before = fast.counter.statements.length;
      const [ra, rb] = [await a.append(entries), await b.append(entries)];
      perAppend.push(fast.counter.statements.length - before);
      expect(ra).toEqual(rb);
      if (i === 3) {
        // The same checkpoint (same time, and Ed25519 signs deterministically) signed in between: both put its entry first.
        const time = new Date();
        await signHead(a, time);
        await signHead(b, time);
      }
    }
    // The first append reads the head in a transaction; every later one, the one after the checkpoint this store
    // signed included, is one statement.
    expect(perAppend[0]).toBe(6); // BEGIN, ensure the chain row, lock, read, insert, COMMIT
    expect(perAppend.slice(1)).toEqual(Array(sizes.length - 1).fill(1));
    expect(fast.counter.statements.filter(isAppend)).toHaveLength(sizes.length - 1);
    expect(await storedRows(fast.db, 'node-1')).toEqual(await storedRows(old.db, 'node-1'));
    expect((await storedRows(fast.db, 'node-1')).filter((r) => r.type === 'checkpoint')).toHaveLength(1);
    await expectVerified(a);
    await expectVerified(b);
  }, 60_000);

  it('on a database not migrated to 9, appends through transactions after one try of the function', async () => {
    const { db, counter } = await database('fast_schema8', 8);
    const audit = new PostgresAuditStore(db, 'old-schema');
    let n = 0;
    for (let i = 0; i < 6; i++) {
      const records = await audit.append(batch(n, 2));
      n += 2;
      expect(records.map((r) => r.seq)).toEqual([n - 1, n]);
    }
    expect(counter.statements.filter(isAppend)).toHaveLength(1);
    expect(counter.statements.filter((s) => s === 'BEGIN')).toHaveLength(6);
    expect(await audit.count()).toBe(12);
    await signHead(audit);
    await expectVerified(audit);
  }, 60_000);

  it('a checkpoint signed by another instance between two appends goes into the chain first', async () => {
    const one = await database('fast_checkpoint');
    const two = await connect(one.url);
    const writer = new PostgresAuditStore(one.db, 'shared');
    const signer = new PostgresAuditStore(two.db, 'shared');
    await writer.append(batch(0, 3));
    await writer.append(batch(3, 2));
    const checkpoint = await signHead(signer);
    expect(checkpoint?.seq).toBe(5);
    const before = one.counter.statements.length;
    const records = await writer.append(batch(5, 2));
    // The first statement found the checkpoint and wrote nothing; the second wrote from where it said the chain was.
    expect(one.counter.statements.slice(before)).toHaveLength(2);
    expect(one.counter.statements.slice(before).every(isAppend)).toBe(true);
    expect(records.map((r) => r.seq)).toEqual([7, 8]);
    const rows = await storedRows(one.db, 'shared');
    expect(rows.map((r) => Number(r.seq))).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(rows[5].type).toBe('checkpoint');
    expect(checkpointOfRecordData(JSON.parse(rows[5].data as string))).toEqual(checkpoint);
    expect(records[0].prevHash).toBe(rows[5].hash);
    await expectVerified(writer);
  }, 60_000);

  it('after another writer moved the head, hashes from where it says the head is and writes there', async () => {
    const one = await database('fast_moved');
    const two = await connect(one.url);
    const a = new PostgresAuditStore(one.db, 'shared');
    const b = new PostgresAuditStore(two.db, 'shared');
    await a.append(batch(0, 2));
    await b.append(batch(2, 3));
    const before = one.counter.statements.length;
    const records = await a.append(batch(5, 1));
    expect(one.counter.statements.slice(before)).toHaveLength(2);
    expect(records[0].seq).toBe(6);
    expect((await storedRows(one.db, 'shared')).map((r) => r.decision_id)).toEqual(['dec_0', 'dec_1', 'dec_2', 'dec_3', 'dec_4', 'dec_5']);
    await signHead(b);
    await expectVerified(a);
  }, 60_000);

  it('two instances appending and signing on one chain at once: one valid chain holding every resolved append once', async () => {
    const one = await database('fast_race');
    const two = await connect(one.url);
    let run = 0;
    // Per instance: a sequence of appends (batch sizes) with checkpoints signed among them, all sent at once.
    const plan = fc.array(fc.oneof(fc.integer({ min: 1, max: 5 }), fc.constant('sign' as const)), { minLength: 1, maxLength: 25 });
    await fc.assert(
      fc.asyncProperty(plan, plan, fc.boolean(), async (planA, planB, startWithB) => {
        const chain = `race-${++run}`;
        const stores = [new PostgresAuditStore(one.db, chain), new PostgresAuditStore(two.db, chain)];
        let n = 0;
        const sent: AuditEntry[][] = [];
        const play = (audit: PostgresAuditStore, steps: Array<number | 'sign'>) =>
          Promise.all(
            steps.map(async (step): Promise<AuditRecord[]> => {
              if (step === 'sign') {
                await signHead(audit);
                return [];
              }
              const entries = batch(n, step);
              n += step;
              sent.push(entries);
              return audit.append(entries);
            }),
          );
        const plays = startWithB ? [play(stores[1], planB), play(stores[0], planA)] : [play(stores[0], planA), play(stores[1], planB)];
        const resolved = (await Promise.all(plays)).flat(2);
        const rows = await storedRows(one.db, chain);
        // No gaps, no duplicates; every resolved record is stored as it was returned.
        expect(rows.map((r) => Number(r.seq))).toEqual(rows.map((_, i) => i + 1));
        const byDecision = new Map(rows.filter((r) => r.type !== 'checkpoint').map((r) => [r.decision_id, r]));
        expect(byDecision.size).toBe(sent.flat().length);
        expect(resolved).toHaveLength(sent.flat().length);
        for (const record of resolved) {
          const row = byDecision.get(record.decisionId)!;
          expect([Number(row.seq), row.hash, row.prev_hash]).toEqual([record.seq, record.hash, record.prevHash]);
        }
        await signHead(stores[0]);
        await expectVerified(stores[1]);
      }),
      { numRuns: 12 },
    );
  }, 180_000);

  it('a failing statement rejects the append, writes nothing of it, and the next append still chains correctly', async () => {
    const { db, counter } = await database('fast_failure');
    const audit = new PostgresAuditStore(db, 'fails');
    await audit.append(batch(0, 2));
    await audit.append(batch(2, 1));
    // Refuses one entry's data inside the insert (a stand-in for any failure of the statement, e.g. a unique violation).
    await db.query(`ALTER TABLE audit_records ADD CONSTRAINT refuse_marked CHECK (strpos(data, 'refuse-me') = 0)`);
    const before = counter.statements.length;
    await expect(audit.append([decisionEntry(3), decisionEntry(4, { data: { note: 'refuse-me' } })])).rejects.toThrow(/refuse_marked/);
    expect(counter.statements.slice(before).every(isAppend)).toBe(true);
    expect(await audit.count()).toBe(3);
    const records = await audit.append(batch(5, 2));
    expect(records.map((r) => r.seq)).toEqual([4, 5]);
    await signHead(audit);
    await expectVerified(audit);
  }, 60_000);

  it("a chain's first transaction that fails does not leave the chain unlisted: the next one that commits writes its row", async () => {
    const { db } = await database('fast_first_failure');
    await db.query(`ALTER TABLE audit_records ADD CONSTRAINT refuse_marked CHECK (strpos(data, 'refuse-me') = 0)`);
    const audit = new PostgresAuditStore(db, 'first-fails');
    await expect(audit.append([decisionEntry(0, { data: { note: 'refuse-me' } })])).rejects.toThrow(/refuse_marked/);
    expect(await db.query('SELECT chain FROM audit_chains WHERE chain = $1', ['first-fails'])).toEqual([]);
    await audit.append(batch(1, 2));
    expect(await db.query('SELECT chain FROM audit_chains WHERE chain = $1', ['first-fails'])).toEqual([{ chain: 'first-fails' }]);
  }, 60_000);

  it('a unique violation on (chain, seq) from a writer that skipped the lock rejects the append and writes none of it', async () => {
    const { db, url } = await database('fast_unique');
    const audit = new PostgresAuditStore(db, 'clash');
    await audit.append(batch(0, 2));
    await audit.append(batch(2, 1));
    // A transaction holding seq 4 uncommitted: the statement sees the head at 3, inserts 4, and waits on that key.
    const rogue = new pg.Client({ connectionString: url });
    await rogue.connect();
    try {
      await rogue.query('BEGIN');
      await rogue.query(
        `INSERT INTO audit_records (chain, seq, time, type, agent_id, decision_id, effect, rules, data, prev_hash, hash) VALUES ('clash', 4, '2025-01-01T00:00:00.000Z', 'decision', NULL, 'rogue', NULL, '[]', '{}', $1, $1)`,
        ['0'.repeat(64)],
      );
      const appending = audit.append(batch(3, 2));
      const outcome = appending.then(
        () => 'resolved',
        (error: { code?: string }) => error.code,
      );
      for (;;) {
        const waiting = await db.query(`SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%agentguard_audit_append%'`);
        if (waiting.length > 0) break;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      await rogue.query('COMMIT');
      expect(await outcome).toBe('23505');
    } finally {
      await rogue.end();
    }
    const rows = await storedRows(db, 'clash');
    expect(rows.map((r) => r.decision_id)).toEqual(['dec_0', 'dec_1', 'dec_2', 'rogue']);
  }, 60_000);

  // Last: it stops the cluster for a while.
  it('an unreachable database rejects with STORE_UNAVAILABLE, and appends resume on the chain when it is back', async () => {
    const { db } = await database('fast_unreachable');
    const audit = new PostgresAuditStore(db, 'outage');
    await audit.append(batch(0, 2));
    await audit.append(batch(2, 2));
    cluster!.pause();
    try {
      await expect(audit.append(batch(4, 1))).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
    } finally {
      cluster!.start();
    }
    let records: AuditRecord[] | undefined;
    for (let attempt = 0; attempt < 5 && !records; attempt++) records = await audit.append(batch(5, 2)).catch(() => undefined);
    expect(records?.map((r) => r.seq)).toEqual([5, 6]);
    await signHead(audit);
    await expectVerified(audit);
  }, 120_000);
});
