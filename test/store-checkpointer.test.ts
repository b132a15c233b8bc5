import { existsSync, mkdirSync, renameSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { loadOrCreateSigningKeys, loadPublicKey } from '../src/core/audit/keys.js';
import { AuditRecorder } from '../src/core/audit/recorder.js';
import { verifyAudit } from '../src/core/audit/verify.js';
import { SqliteStore, type BackgroundCheckpointOptions } from '../src/core/store/sqlite/sqlite-store.js';
import { decisionEntry, rawDb, tempDataDir } from './helpers/audit-log.js';

const PAGE = 4096;
const FRAME = PAGE + 24;
const RESTART_BYTES = 64 * FRAME;
// An append of one small record dirties its table page and one page of each of the three indexes (so at least 4
// frames), a few more when a page splits: never near 12.
const MIN_FRAMES_PER_COMMIT = 4;
const MAX_FRAMES_PER_COMMIT = 12;
// Appends made between two checks that the thread has made a pass.
const APPENDS_PER_PASS = 20;

function openStore(dataDir: string, options: BackgroundCheckpointOptions | false = {}): { store: SqliteStore; file: string; wal: string } {
  mkdirSync(dataDir, { recursive: true });
  const file = join(dataDir, 'agentguard.db');
  const store = SqliteStore.open(file, {
    backgroundCheckpoints: options && { startAfterWrites: 1, restartBytes: RESTART_BYTES, intervalMs: 1, retryMs: 5, ...options },
  });
  return { store, file, wal: `${file}-wal` };
}

const walSize = (wal: string) => (existsSync(wal) ? statSync(wal).size : 0);

/** Waits (polling, no time limit but the test's) until `check` holds. */
async function until(check: () => boolean): Promise<void> {
  while (!check()) await sleep(2);
}

/** Waits until the thread has made a whole pass (a checkpoint) that started after this call. */
async function nextPass(store: SqliteStore): Promise<void> {
  const seen = store.checkpointStats()?.checkpoints ?? 0;
  await until(() => (store.checkpointStats()?.checkpoints ?? 0) > seen + 1);
}

/** Starts the thread (the first audit write does, with startAfterWrites 1) and waits until it runs. */
async function startThread(recorder: AuditRecorder, store: SqliteStore): Promise<void> {
  await recorder.record(decisionEntry(0));
  await until(() => store.checkpointStats()?.running === true);
}

describe('SqliteStore background checkpoints', () => {
  it('keeps the WAL bounded over thousands of commits; every record is stored and the chain verifies', async () => {
    const dataDir = tempDataDir('ag-ckpt-');
    const { store, wal } = openStore(dataDir);
    const recorder = new AuditRecorder(store, loadOrCreateSigningKeys(dataDir), { checkpointEvery: 500 });
    await startThread(recorder, store);
    const commits = 4000;
    let maxWal = 0;
    for (let i = 1; i < commits; i++) {
      await recorder.record(decisionEntry(i));
      maxWal = Math.max(maxWal, walSize(wal));
      if (i % APPENDS_PER_PASS === 0) await nextPass(store);
    }
    const stats = store.checkpointStats()!;
    expect(stats.running).toBe(true);
    expect(stats.restarts).toBeGreaterThanOrEqual(5);
    // Without restarts the WAL would hold every frame written.
    expect(commits * MIN_FRAMES_PER_COMMIT * FRAME).toBeGreaterThan(10 * maxWal);
    // The bound: the restart threshold, plus what is appended while the thread makes up to three passes (the one
    // under way, the one that sees the threshold, the catch-up) before the next commit restarts the WAL.
    expect(maxWal).toBeLessThanOrEqual(RESTART_BYTES + 3 * APPENDS_PER_PASS * MAX_FRAMES_PER_COMMIT * FRAME);

    await recorder.close();
    const reopened = SqliteStore.open(join(dataDir, 'agentguard.db'), { create: false });
    try {
      // Every decision, plus the chain's copy of each checkpoint signed every 500 records but the last.
      const copies = (await reopened.audit.query({ type: 'checkpoint' })).length;
      expect(copies).toBe(Math.floor((commits - 1) / 500));
      expect(await reopened.audit.count()).toBe(commits + copies);
      const result = await verifyAudit(reopened, { publicKey: loadPublicKey(dataDir) });
      expect(result.ok).toBe(true);
      expect(result.records).toBe(commits + copies);
    } finally {
      await reopened.close();
    }
  });

  it('holds appends while it catches up, even from a loop that never returns to the event loop', async () => {
    const dataDir = tempDataDir('ag-ckpt-');
    const { store, wal } = openStore(dataDir, { intervalMs: 0 });
    const recorder = new AuditRecorder(store, loadOrCreateSigningKeys(dataDir));
    await startThread(recorder, store);
    // Appends awaited straight on the store resolve in microtasks: the thread's messages cannot get in, only the
    // shared pause request each append checks.
    const before = store.checkpointStats()!.restarts;
    for (let i = 1; i < 2000 && store.checkpointStats()!.restarts - before < 2; i++) await store.audit.append([decisionEntry(i)]);
    expect(store.checkpointStats()!.restarts - before).toBeGreaterThanOrEqual(2);
    expect(store.checkpointStats()!.pauses).toBeGreaterThanOrEqual(2);
    expect(walSize(wal)).toBeGreaterThan(0);
    await recorder.close();
  });

  it('cannot restart the WAL while a reader holds a snapshot in it, and restarts it once the reader is done', async () => {
    const dataDir = tempDataDir('ag-ckpt-');
    const { store, file, wal } = openStore(dataDir);
    const recorder = new AuditRecorder(store, loadOrCreateSigningKeys(dataDir));
    await startThread(recorder, store);
    const reader = rawDb(file);
    try {
      reader.exec('BEGIN');
      reader.prepare('SELECT count(*) FROM audit_records').get(); // the read transaction now holds its snapshot
      // A reader that began while the WAL was fully checkpointed reads the database file instead, and the WAL may
      // restart once more after it began; either way no checkpoint can get past it from then on.
      let i = 1;
      while (walSize(wal) < 4 * RESTART_BYTES) {
        await recorder.record(decisionEntry(i++));
        if (i % APPENDS_PER_PASS === 0) await nextPass(store);
      }
      const pinned = store.checkpointStats()!.restarts;
      for (let more = 0; more < 5 * APPENDS_PER_PASS; more++) {
        await recorder.record(decisionEntry(i++));
        if (i % APPENDS_PER_PASS === 0) await nextPass(store);
      }
      await nextPass(store);
      expect(store.checkpointStats()!.restarts).toBe(pinned);
      expect(store.checkpointStats()!.walFrames * FRAME).toBeGreaterThanOrEqual(4 * RESTART_BYTES);

      reader.exec('COMMIT');
      while (store.checkpointStats()!.restarts === pinned) {
        await recorder.record(decisionEntry(i++));
        await nextPass(store);
      }
      expect(store.checkpointStats()!.walFrames * FRAME).toBeLessThan(RESTART_BYTES);
    } finally {
      reader.close();
      await recorder.close();
    }
  });

  it('stops the thread on close, gives checkpoints back to SQLite and leaves no WAL behind', async () => {
    const dataDir = tempDataDir('ag-ckpt-');
    const { store, wal } = openStore(dataDir);
    const recorder = new AuditRecorder(store, loadOrCreateSigningKeys(dataDir), { ownsStore: true });
    await startThread(recorder, store);
    for (let i = 1; i < 200; i++) await recorder.record(decisionEntry(i));
    expect(existsSync(wal)).toBe(true);
    await recorder.close();
    expect(store.checkpointStats()!.running).toBe(false);
    expect(existsSync(wal)).toBe(false);
    const reopened = SqliteStore.open(join(dataDir, 'agentguard.db'), { create: false });
    expect(await reopened.audit.count()).toBe(200);
    await reopened.close();
  });

  it('starts no thread for a store that writes little, nor when turned off', async () => {
    const few = openStore(tempDataDir('ag-ckpt-'), { startAfterWrites: 256 });
    for (let i = 0; i < 10; i++) await few.store.audit.append([decisionEntry(i)]);
    expect(few.store.checkpointStats()).toBeNull();
    await few.store.close();

    const off = openStore(tempDataDir('ag-ckpt-'), false);
    for (let i = 0; i < 300; i++) await off.store.audit.append([decisionEntry(i)]);
    expect(off.store.checkpointStats()).toBeNull();
    await off.store.close();
  });

  it('reports a thread that cannot start and leaves checkpoints to SQLite, without losing an append', async () => {
    const dataDir = tempDataDir('ag-ckpt-');
    mkdirSync(dataDir, { recursive: true });
    const file = join(dataDir, 'agentguard.db');
    const errors: Error[] = [];
    const store = SqliteStore.open(file, { backgroundCheckpoints: { startAfterWrites: 1, onError: (error) => errors.push(error) } });
    // The thread opens the database by its name: moved away, it cannot, while this connection keeps its open files.
    renameSync(file, `${file}.moved`);
    try {
      await store.audit.append([decisionEntry(0)]);
      await until(() => errors.length > 0);
      expect(errors[0].message).toMatch(/cannot open .*agentguard\.db for background checkpoints/);
      expect(errors[0].message).toMatch(/SQLite keeps checkpointing the WAL itself/);
      expect(store.checkpointStats()!.running).toBe(false);
      // 1,100 commits write at least 4,400 frames. SQLite's own auto-checkpoint, back on, checkpoints the WAL in the
      // commit that takes it past 1,000 frames, and the next commit restarts it.
      let maxWal = 0;
      for (let i = 1; i <= 1100; i++) {
        await store.audit.append([decisionEntry(i)]);
        maxWal = Math.max(maxWal, walSize(`${file}-wal`));
      }
      expect(await store.audit.count()).toBe(1101);
      expect(maxWal).toBeLessThanOrEqual(32 + (1000 + MAX_FRAMES_PER_COMMIT) * FRAME);
    } finally {
      renameSync(`${file}.moved`, file);
      await store.close();
    }
  });
});
