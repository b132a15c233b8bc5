import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadPublicKey } from '../src/core/audit/keys.js';
import { AuditRecorder } from '../src/core/audit/recorder.js';
import type { AuditRecord } from '../src/core/audit/types.js';
import { verifyAudit } from '../src/core/audit/verify.js';
import { PostgresStore } from '../src/core/store/postgres/postgres-store.js';
import { decisionEntry, tempDataDir } from './helpers/audit-log.js';
import { postgresMissing, startPgCluster, type PgCluster } from './helpers/pg-cluster.js';

// PostgreSQL is skipped only when its server binaries are absent; .ci/run installs them.
const missing = postgresMissing();
let cluster: PgCluster | undefined;
beforeAll(async () => {
  if (missing === null) cluster = await startPgCluster();
}, 120_000);
afterAll(() => cluster?.stop());

describe.skipIf(missing !== null)('audit writer thread on PostgreSQL (PostgresStore auditWriterThread)', () => {
  it('keeps concurrent requests and appends of the store connection in one verifiable chain, in recording order', async () => {
    const dataDir = tempDataDir('ag-perf-writer-pg-');
    const url = cluster!.database('perf_writer');
    const store = await PostgresStore.open(url, { chain: 'writer-test', auditWriterThread: true });
    let records: AuditRecord[] = [];
    let alongsideRan = 0;
    try {
      const recorder = await AuditRecorder.attach(store, dataDir, { checkpointEvery: 7 });
      let n = 0;
      for (let round = 0; round < 6; round++) {
        // Requests of one turn share a batch for the thread; a ledger-style write (`alongside`) uses the store connection.
        const batches = Array.from({ length: 12 }, (_, k) => Array.from({ length: 1 + (k % 3) }, () => decisionEntry(n++)));
        const results = await Promise.all(batches.map((entries) => recorder.append(entries)));
        expect(results.flat().map((r) => r.decisionId)).toEqual(batches.flat().map((e) => e.decisionId));
        records.push(...results.flat());
        records.push(...(await store.audit.append([decisionEntry(n++)], () => void alongsideRan++)));
      }
      // The thread did the appends (it did not fail over to the store connection).
      expect((store as unknown as { writer: { usable: boolean } }).writer.usable).toBe(true);
      // Signs the head, the direct appends included (the recorder signs only what it wrote itself).
      await recorder.checkpoint();
      await recorder.close();
    } finally {
      await store.close();
    }
    expect(alongsideRan).toBe(6);
    records = records.sort((a, b) => a.seq - b.seq);
    expect(new Set(records.map((r) => r.seq)).size).toBe(records.length);
    const reopened = await PostgresStore.open(url, { chain: 'writer-test' });
    try {
      const stored = new Map<number, string>();
      for await (const row of reopened.audit.scan()) if ('hash' in row) stored.set(row.seq, row.hash);
      for (const record of records) expect(stored.get(record.seq)).toBe(record.hash);
      const result = await verifyAudit(reopened, { publicKey: loadPublicKey(dataDir) });
      expect(result.problems).toEqual([]);
      expect(result.ok).toBe(true);
    } finally {
      await reopened.close();
    }
  }, 120_000);
});
