/**
 * The background checkpointer's thread (started by WalCheckpointer; see there for the why). It holds its own
 * connection to the database and, every `intervalMs`, runs a PASSIVE checkpoint: the WAL's new frames are synced and
 * copied into the database beside the writer's commits, so no commit pays for a large one.
 *
 * SQLite restarts the WAL (writes it again from the start) only when a write transaction begins while every frame
 * has been checkpointed and no reader uses the WAL. Under steady load a checkpoint running beside the writer never
 * catches up, so once the WAL holds `restartFrames` frames this thread asks the writer to pause, checkpoints the few
 * frames written since its last pass, and lets the writer go on: its next commit restarts the WAL.
 */
import Database from 'better-sqlite3';
import { setTimeout as sleep } from 'node:timers/promises';
import { parentPort, workerData } from 'node:worker_threads';
import {
  CHECKPOINTS_SLOT,
  MAX_WAL_FRAMES_SLOT,
  PAUSE_REQUESTED,
  PAUSE_SLOT,
  RESTARTS_SLOT,
  ROUND_SLOT,
  RUNNING,
  WAL_FRAMES_SLOT,
  type CheckpointWorkerData,
  type FromCheckpointWorker,
  type ToCheckpointWorker,
} from './wal-checkpoint-protocol.js';

interface CheckpointResult {
  busy: number;
  log: number;
  checkpointed: number;
}

const data = workerData as CheckpointWorkerData;
const port = parentPort!;
const state = new Int32Array(data.state);
const send = (message: FromCheckpointWorker) => port.postMessage(message);
let stopping = false;
let wake: (() => void) | null = null;

port.on('message', (message: ToCheckpointWorker) => {
  if (message.type === 'stop') {
    stopping = true;
    wake?.();
  }
});

let db: Database.Database;
try {
  db = new Database(data.file, { fileMustExist: true });
  db.pragma(`busy_timeout = ${data.busyTimeoutMs}`);
  // The checkpoint's syncs (the WAL before copying, the database after) are what make the writer's NORMAL commits
  // durable: this connection must never sync less than the writer's.
  db.pragma('synchronous = NORMAL');
  if (db.pragma('journal_mode', { simple: true }) !== 'wal') throw new Error('the database is not in WAL mode');
} catch (error) {
  send({ type: 'failed', message: `cannot open ${data.file} for background checkpoints: ${(error as Error).message}` });
  process.exit(1);
}

let previousLog = 0;
/** A PASSIVE checkpoint (never waits for readers or writers), counted in the shared slots. */
function checkpoint(): CheckpointResult {
  const result = (db.pragma('wal_checkpoint(PASSIVE)') as CheckpointResult[])[0];
  Atomics.add(state, CHECKPOINTS_SLOT, 1);
  if (result.log < previousLog) Atomics.add(state, RESTARTS_SLOT, 1);
  previousLog = result.log;
  Atomics.store(state, WAL_FRAMES_SLOT, result.log);
  if (result.log > Atomics.load(state, MAX_WAL_FRAMES_SLOT)) Atomics.store(state, MAX_WAL_FRAMES_SLOT, result.log);
  return result;
}

/** Sleeps `ms`, or less when told to stop. */
async function rest(ms: number): Promise<void> {
  const ac = new AbortController();
  wake = () => ac.abort();
  await sleep(ms, undefined, { signal: ac.signal }).catch(() => undefined);
  wake = null;
}

/**
 * Asks the writer to hold its appends, waits until it does, checkpoints what is left and lets it go on. Returns the
 * catch-up's checkpoint, or null when the writer did not answer in time (the request is then withdrawn).
 */
async function catchUp(): Promise<CheckpointResult | null> {
  const round = Atomics.add(state, ROUND_SLOT, 1) + 1;
  Atomics.store(state, PAUSE_SLOT, PAUSE_REQUESTED);
  // A writer in the middle of appends answers through the shared slot before its next append; one with nothing to
  // append answers this message from its event loop.
  send({ type: 'pause', round });
  const deadline = Date.now() + data.pauseAnswerMs;
  while (Atomics.load(state, PAUSE_SLOT) === PAUSE_REQUESTED && !stopping && Date.now() < deadline) {
    Atomics.wait(state, PAUSE_SLOT, PAUSE_REQUESTED, 5);
    await sleep(0); // lets a stop message in
  }
  if (Atomics.compareExchange(state, PAUSE_SLOT, PAUSE_REQUESTED, RUNNING) === PAUSE_REQUESTED) return null;
  try {
    return checkpoint();
  } finally {
    Atomics.store(state, PAUSE_SLOT, RUNNING);
    send({ type: 'resume', round });
  }
}

let nextCatchUp = 0;
try {
  send({ type: 'ready' });
  while (!stopping) {
    const passive = checkpoint();
    if (passive.log >= data.restartFrames && Date.now() >= nextCatchUp) {
      const caughtUp = await catchUp();
      // Not caught up: a reader still uses the WAL (another process, a long query) or the writer did not pause. Try
      // again a little later rather than pausing the writer at every pass.
      if (!caughtUp || caughtUp.checkpointed < caughtUp.log) nextCatchUp = Date.now() + data.retryMs;
    }
    await rest(data.intervalMs);
  }
} catch (error) {
  send({ type: 'failed', message: `background checkpoint failed: ${(error as Error).message}` });
  db.close();
  process.exit(1);
}
db.close();
port.close();
