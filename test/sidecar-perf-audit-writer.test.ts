import fc from 'fast-check';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { loadOrCreateSigningKeys, loadPublicKey } from '../src/core/audit/keys.js';
import { AuditRecorder } from '../src/core/audit/recorder.js';
import type { AuditEntry, AuditRecord } from '../src/core/audit/types.js';
import { verifyAudit } from '../src/core/audit/verify.js';
import { isAgentGuardError } from '../src/core/errors.js';
import { SqliteStore } from '../src/core/store/sqlite/sqlite-store.js';
import { decisionEntry, tempDataDir } from './helpers/audit-log.js';

const open: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  while (open.length > 0) await open.pop()!.close();
});

function threadedStore(dataDir: string, options: { backgroundCheckpoints?: false } = {}): SqliteStore {
  mkdirSync(dataDir, { recursive: true });
  const store = SqliteStore.open(join(dataDir, 'agentguard.db'), { auditWriterThread: true, ...options });
  open.push(store);
  return store;
}

/** The writer thread of a store, reached behind its back to make it fail as a crashed thread would. */
function writerWorker(store: SqliteStore): Worker {
  return (store as unknown as { writer: { worker: Worker } }).writer.worker;
}

async function verified(store: SqliteStore, dataDir: string) {
  return verifyAudit(store, { publicKey: loadPublicKey(dataDir) });
}

/** Every resolved record is stored exactly as returned (same seq, hash and decision). */
async function expectStored(store: SqliteStore, records: AuditRecord[]): Promise<void> {
  const stored = new Map<number, AuditRecord>();
  for await (const row of store.audit.scan()) if ('hash' in row) stored.set(row.seq, row);
  for (const record of records) {
    expect(stored.get(record.seq)?.hash).toBe(record.hash);
    expect(stored.get(record.seq)?.decisionId).toBe(record.decisionId);
  }
}

describe('audit writer thread (SqliteStore auditWriterThread)', () => {
  it('works with the background WAL checkpointer: the WAL restarts (the thread connection stops auto-checkpointing) and every record verifies', async () => {
    const dataDir = tempDataDir('ag-perf-writer-');
    mkdirSync(dataDir, { recursive: true });
    const file = join(dataDir, 'agentguard.db');
    const frame = 4096 + 24;
    const store = SqliteStore.open(file, { auditWriterThread: true, backgroundCheckpoints: { startAfterWrites: 1, restartBytes: 64 * frame, intervalMs: 1, retryMs: 5 } });
    open.push(store);
    const recorder = new AuditRecorder(store, loadOrCreateSigningKeys(dataDir), { checkpointEvery: 250 });
    const records: AuditRecord[] = [];
    await recorder.record(decisionEntry(0)).then((r) => records.push(r));
    while (store.checkpointStats()?.running !== true) await new Promise((resolve) => setTimeout(resolve, 2));
    for (let i = 1; i < 1500; i += 5) {
      // Five requests in one turn: one batch for the thread.
      const batch = await Promise.all(Array.from({ length: 5 }, (_, k) => recorder.record(decisionEntry(i + k))));
      records.push(...batch);
      if (i % 100 === 1) await new Promise((resolve) => setTimeout(resolve, 3));
    }
    const stats = store.checkpointStats()!;
    expect(stats.running).toBe(true);
    expect(stats.restarts).toBeGreaterThanOrEqual(1);
    await recorder.close();
    const reopened = SqliteStore.open(file, { create: false });
    open.push(reopened);
    await expectStored(reopened, records);
    const result = await verified(reopened, dataDir);
    expect(result.ok).toBe(true);
    expect(result.records).toBe(records.length + (await reopened.audit.query({ type: 'checkpoint' })).length);
  });

  it('keeps concurrent requests in one verifiable chain, in the order they were recorded, each resolved only once stored', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 60 }), fc.integer({ min: 1, max: 7 }), async (sizes, checkpointEvery) => {
        const dataDir = tempDataDir('ag-perf-writer-');
        const store = threadedStore(dataDir);
        const recorder = new AuditRecorder(store, loadOrCreateSigningKeys(dataDir), { checkpointEvery });
        let n = 0;
        // All appended in one turn, as concurrent HTTP requests are: group commit batches them for the thread.
        const batches = sizes.map((size) => Array.from({ length: size }, () => decisionEntry(n++)));
        const results = await Promise.all(batches.map((entries) => recorder.append(entries)));
        await recorder.close();
        const records = results.flat();
        // Recording order is chain order (checkpoint records may sit between them).
        expect(records.map((r) => r.decisionId)).toEqual(batches.flat().map((e) => e.decisionId));
        for (let i = 1; i < records.length; i++) expect(records[i]!.seq).toBeGreaterThan(records[i - 1]!.seq);
        const reopened = SqliteStore.open(join(dataDir, 'agentguard.db'));
        open.push(reopened);
        await expectStored(reopened, records);
        const result = await verified(reopened, dataDir);
        expect(result.problems).toEqual([]);
        expect(result.ok).toBe(true);
      }),
      { numRuns: 15 },
    );
  });

  it('chains appends of the thread and of the store connection (writes that must commit with their entries) as one log', async () => {
    const dataDir = tempDataDir('ag-perf-writer-');
    const store = threadedStore(dataDir);
    const recorder = new AuditRecorder(store, loadOrCreateSigningKeys(dataDir), { checkpointEvery: 5 });
    let alongsideRan = 0;
    const appends: Array<Promise<AuditRecord[]>> = [];
    for (let i = 0; i < 40; i++) {
      // An `alongside` write needs the store connection's transaction: it never goes to the thread.
      appends.push(i % 3 === 0 ? store.audit.append([decisionEntry(i)], () => void alongsideRan++) : recorder.record(decisionEntry(i)).then((r) => [r]));
      if (i % 7 === 0) await Promise.all(appends);
    }
    const records = (await Promise.all(appends)).flat();
    // Signs the head, the direct appends included (the recorder signs only what it wrote itself).
    await recorder.checkpoint();
    await recorder.close();
    expect(alongsideRan).toBe(14);
    expect(new Set(records.map((r) => r.seq)).size).toBe(40);
    const reopened = SqliteStore.open(join(dataDir, 'agentguard.db'));
    open.push(reopened);
    await expectStored(reopened, records);
    expect((await verified(reopened, dataDir)).ok).toBe(true);
  });

  it('refuses an invalid entry with the error the store gives, without failing the entries sharing its batch', async () => {
    const dataDir = tempDataDir('ag-perf-writer-');
    const store = threadedStore(dataDir);
    const recorder = new AuditRecorder(store, loadOrCreateSigningKeys(dataDir));
    const good = recorder.record(decisionEntry(1));
    const badTime = recorder.record({ ...decisionEntry(2), time: new Date() as unknown as string });
    const bigint = recorder.record(decisionEntry(3, { data: { n: 10n } as unknown as AuditEntry['data'] }));
    const alsoGood = recorder.record(decisionEntry(4));
    const [a, b, c, d] = await Promise.allSettled([good, badTime, bigint, alsoGood]);
    expect(a.status).toBe('fulfilled');
    expect(d.status).toBe('fulfilled');
    for (const refused of [b, c]) {
      expect(refused.status).toBe('rejected');
      const reason = (refused as PromiseRejectedResult).reason;
      expect(isAgentGuardError(reason) && reason.code).toBe('AUDIT_ENTRY_INVALID');
    }
    expect((b as PromiseRejectedResult).reason.message).toMatch(/"time"/);
    expect((c as PromiseRejectedResult).reason.message).toMatch(/"data" cannot be written as JSON/);
    await recorder.close();
  });

  it('never resolves a batch the thread did not answer: when the thread dies, those appends fail and later ones go on in one valid chain', async () => {
    const dataDir = tempDataDir('ag-perf-writer-');
    const store = threadedStore(dataDir);
    const warnings: Error[] = [];
    const recorder = new AuditRecorder(store, loadOrCreateSigningKeys(dataDir), { checkpointEvery: 0, onError: (e) => warnings.push(e) });
    const before = await Promise.all(Array.from({ length: 20 }, (_, i) => recorder.record(decisionEntry(i))));
    // Kill the thread while batches are on their way to it.
    const inFlight = Array.from({ length: 30 }, (_, i) => recorder.record(decisionEntry(100 + i)));
    await new Promise((resolve) => setImmediate(resolve));
    const writer = (store as unknown as { writer: { busy: boolean } }).writer;
    expect(writer.busy).toBe(true);
    await writerWorker(store).terminate();
    const settled = await Promise.allSettled(inFlight);
    const resolved = settled.filter((s): s is PromiseFulfilledResult<AuditRecord> => s.status === 'fulfilled').map((s) => s.value);
    for (const s of settled) if (s.status === 'rejected') expect(String(s.reason.message)).toMatch(/audit writer thread/);
    const after = await Promise.all(Array.from({ length: 20 }, (_, i) => recorder.record(decisionEntry(200 + i))));
    await recorder.close();
    const reopened = SqliteStore.open(join(dataDir, 'agentguard.db'));
    open.push(reopened);
    // Every record a caller was given is stored, as given; the chain verifies across the switch to the store's connection.
    await expectStored(reopened, [...before, ...resolved, ...after]);
    expect((await verified(reopened, dataDir)).ok).toBe(true);
  });
});
