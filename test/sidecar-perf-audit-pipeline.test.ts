import fc from 'fast-check';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadOrCreateSigningKeys, loadPublicKey } from '../src/core/audit/keys.js';
import { AuditRecorder } from '../src/core/audit/recorder.js';
import type { AuditEntry, AuditRecord } from '../src/core/audit/types.js';
import { verifyAudit } from '../src/core/audit/verify.js';
import type { Store } from '../src/core/store/store.js';
import { SqliteStore } from '../src/core/store/sqlite/sqlite-store.js';
import { decisionEntry, tempDataDir } from './helpers/audit-log.js';
import { MemoryAuditStore } from './helpers/memory-audit-store.js';

/**
 * An audit store that takes appends in order while earlier ones are in flight, as a writer thread does: each append is
 * chained when it is made, and resolves only when the test commits it (in order, like the thread).
 */
class PipelinedMemoryAuditStore extends MemoryAuditStore {
  pipelined = true;
  readonly waiting: Array<{ size: number; commit: () => void; fail: (error: Error) => void }> = [];
  maxInFlight = 0;
  committed = 0;

  override append(entries: AuditEntry[]): Promise<AuditRecord[]> {
    const chained = super.append(entries);
    return new Promise((resolve, reject) => {
      this.waiting.push({
        size: entries.length,
        commit: () => {
          this.committed += entries.length;
          resolve(chained);
        },
        fail: reject,
      });
      this.maxInFlight = Math.max(this.maxInFlight, this.waiting.length);
    });
  }

  /** Commits the oldest append in flight. */
  commitNext(): void {
    this.waiting.shift()!.commit();
  }
}

function storeOf(audit: PipelinedMemoryAuditStore): Store {
  return { audit, close: async () => undefined } as unknown as Store;
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

const open: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  while (open.length > 0) await open.pop()!.close();
});

describe('the recorder pipelines batches to a store that takes them in order (an audit writer thread)', () => {
  it('sends the next batch while the one before it is committing, and answers each request only once its own batch committed', async () => {
    const audit = new PipelinedMemoryAuditStore();
    const recorder = new AuditRecorder(storeOf(audit), loadOrCreateSigningKeys(tempDataDir('ag-pipeline-')), { checkpointEvery: 0, checkpointIntervalMs: 0 });
    const settled: string[] = [];
    const first = recorder.record(decisionEntry(1)).then((r) => settled.push(r.decisionId!));
    await turn();
    expect(audit.waiting).toHaveLength(1);
    // A request of a later turn is sent at once, not after the first batch committed.
    const second = recorder.record(decisionEntry(2)).then((r) => settled.push(r.decisionId!));
    await turn();
    await turn();
    expect(audit.waiting).toHaveLength(2);
    expect(settled).toEqual([]);
    audit.commitNext();
    await first;
    expect(settled).toEqual([decisionEntry(1).decisionId]);
    audit.commitNext();
    await second;
    expect(settled).toEqual([decisionEntry(1).decisionId, decisionEntry(2).decisionId]);
    await recorder.close();
  });

  it('waits for every batch in flight on close, and keeps at most 8 batches in flight', async () => {
    const audit = new PipelinedMemoryAuditStore();
    const recorder = new AuditRecorder(storeOf(audit), loadOrCreateSigningKeys(tempDataDir('ag-pipeline-')), { checkpointEvery: 0, checkpointIntervalMs: 0 });
    const records: Array<Promise<AuditRecord>> = [];
    for (let i = 0; i < 12; i++) {
      records.push(recorder.record(decisionEntry(i)));
      await turn();
    }
    expect(audit.waiting).toHaveLength(8);
    let closed = false;
    const closing = recorder.close().then(() => (closed = true));
    while (audit.waiting.length > 0) {
      expect(closed).toBe(false);
      audit.commitNext();
      await turn();
    }
    await closing;
    expect(audit.maxInFlight).toBe(8);
    expect((await Promise.all(records)).map((r) => r.seq)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
  });

  it('fails only the requests of a batch that failed', async () => {
    const audit = new PipelinedMemoryAuditStore();
    const recorder = new AuditRecorder(storeOf(audit), loadOrCreateSigningKeys(tempDataDir('ag-pipeline-')), { checkpointEvery: 0, checkpointIntervalMs: 0 });
    const a = recorder.record(decisionEntry(1));
    await turn();
    const b = recorder.record(decisionEntry(2));
    await turn();
    await turn();
    expect(audit.waiting).toHaveLength(2);
    audit.waiting.shift()!.fail(new Error('disk full'));
    audit.commitNext();
    await expect(a).rejects.toThrow('disk full');
    expect((await b).decisionId).toBe(decisionEntry(2).decisionId);
    await recorder.close();
  });

  it('does not pipeline to a store that does not take appends in order: one batch at a time', async () => {
    const audit = new PipelinedMemoryAuditStore();
    audit.pipelined = false;
    const recorder = new AuditRecorder(storeOf(audit), loadOrCreateSigningKeys(tempDataDir('ag-pipeline-')), { checkpointEvery: 0, checkpointIntervalMs: 0 });
    const all: Array<Promise<AuditRecord>> = [];
    for (let i = 0; i < 4; i++) {
      all.push(recorder.record(decisionEntry(i)));
      await turn();
    }
    expect(audit.waiting).toHaveLength(1);
    while (audit.committed < 4) {
      expect(audit.waiting.length).toBeLessThanOrEqual(1);
      if (audit.waiting.length > 0) audit.commitNext();
      await turn();
    }
    await Promise.all(all);
    expect(audit.maxInFlight).toBe(1);
    await recorder.close();
  });
});

describe('pipelined recording through the SQLite audit writer thread', () => {
  it('keeps requests of many turns, with checkpoints signed while batches are in flight, in one verifiable chain; each record stored as answered', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 0, max: 5 }), { minLength: 1, maxLength: 40 }), fc.integer({ min: 1, max: 9 }), async (perTurn, checkpointEvery) => {
        const dataDir = tempDataDir('ag-pipeline-');
        mkdirSync(dataDir, { recursive: true });
        const file = join(dataDir, 'agentguard.db');
        const store = SqliteStore.open(file, { auditWriterThread: true });
        open.push(store);
        expect(store.audit.pipelined).toBe(true);
        const recorder = new AuditRecorder(store, loadOrCreateSigningKeys(dataDir), { checkpointEvery });
        let n = 0;
        const answers: Array<Promise<AuditRecord>> = [];
        // Requests arrive over many turns of the event loop without waiting for their answers, as HTTP requests do.
        for (const count of perTurn) {
          for (let k = 0; k < count; k++) answers.push(recorder.record(decisionEntry(n++)));
          await turn();
        }
        const records = await Promise.all(answers);
        await recorder.close();
        expect(new Set(records.map((r) => r.seq)).size).toBe(n);
        const reopened = SqliteStore.open(file, { create: false });
        open.push(reopened);
        const stored = new Map<number, AuditRecord>();
        for await (const row of reopened.audit.scan()) if ('hash' in row) stored.set(row.seq, row);
        for (const record of records) {
          expect(stored.get(record.seq)?.hash).toBe(record.hash);
          expect(stored.get(record.seq)?.decisionId).toBe(record.decisionId);
        }
        const result = await verifyAudit(reopened, { publicKey: loadPublicKey(dataDir) });
        expect(result.problems).toEqual([]);
        expect(result.ok).toBe(true);
      }),
      { numRuns: 12 },
    );
  });
});
