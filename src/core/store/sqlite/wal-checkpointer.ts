import type { Database } from 'better-sqlite3';
import { Worker } from 'node:worker_threads';
import { workerEntry } from '../../worker-entry.js';
import {
  CHECKPOINTS_SLOT,
  MAX_WAL_FRAMES_SLOT,
  PAUSE_ACKNOWLEDGED,
  PAUSE_REQUESTED,
  PAUSE_SLOT,
  RESTARTS_SLOT,
  ROUND_SLOT,
  SLOTS,
  WAL_FRAMES_SLOT,
  type CheckpointWorkerData,
  type FromCheckpointWorker,
} from './wal-checkpoint-protocol.js';

/** SQLite's own default: a commit that leaves the WAL this many frames long checkpoints it. */
const SQLITE_AUTOCHECKPOINT_PAGES = 1000;

/** Options of WalCheckpointer; every one has a default. */
export interface WalCheckpointerOptions {
  /** Pause between two background checkpoints (default 20 ms). */
  intervalMs?: number;
  /** Restart the WAL once it is this large (default 16 MiB): the bound on its size under steady load. */
  restartBytes?: number;
  /** How long the thread waits for the writer to pause before trying again later (default 1000 ms). */
  pauseAnswerMs?: number;
  /** How long after a restart that could not be done (a reader was using the WAL) to try again (default 200 ms). */
  retryMs?: number;
  /** The longest the writer holds its appends for the thread (default 2000 ms); past it they go on regardless. */
  maxPauseMs?: number;
  /** busy_timeout of the thread's connection. */
  busyTimeoutMs: number;
  /** The thread failed and SQLite's own checkpoints are back on. Default: a process warning. */
  onError?: (error: Error) => void;
  /** True while the writer's appends run elsewhere (a writer thread) and one may be in its transaction now. */
  writerBusy?: () => boolean;
  /** Another connection that writes (a writer thread) gets the wal_autocheckpoint set on `db`, too. */
  onAutoCheckpoint?: (pages: number) => void;
}

/** What the background checkpointer has done so far. */
export interface WalCheckpointStats {
  /** The thread is running (false before it is ready, after stop() and after a failure). */
  running: boolean;
  checkpoints: number;
  /** Times the WAL was seen to start over from its beginning. */
  restarts: number;
  /** Times the writer held its appends for a catch-up, and the longest such pause. */
  pauses: number;
  longestPauseMs: number;
  /** Frames in the WAL at the latest pass, and the most seen at any pass. */
  walFrames: number;
  maxWalFrames: number;
}

/**
 * Checkpoints a WAL-mode database from a worker thread with its own connection, so that the writer's commits never
 * copy pages into the database or sync files, and keeps the WAL bounded.
 *
 * Why: better-sqlite3 is synchronous, and with SQLite's own auto-checkpoint every ~1000 pages one commit copies them
 * into the database and syncs both files: a stall of 10-20 ms of the event loop that every request waiting at that
 * moment shares. Here the writer's auto-checkpoint is off while the thread runs; the thread checkpoints (PASSIVE)
 * every `intervalMs` beside the commits. A checkpoint running beside a steady writer seldom catches up, and SQLite
 * restarts the WAL only when it has (at the next write), so once the WAL reaches `restartBytes` the thread asks the
 * writer to hold its appends for one short checkpoint of what is left (a few frames): `writable()` returns a
 * promise while that pause lasts, and the writer awaits it before each append. Durability is unchanged: commits are
 * made with the writer's `synchronous` setting and every checkpoint syncs the WAL before copying it.
 *
 * When the thread fails, SQLite's auto-checkpoint is switched back on and `onError` is told.
 *
 * @example
 * const checkpointer = WalCheckpointer.start(db, file, { busyTimeoutMs: 5000 });
 * await checkpointer.writable();   // before each append (resolves at once unless a catch-up is under way)
 * await checkpointer.stop();       // before closing db
 */
export class WalCheckpointer {
  private readonly db: Database;
  private readonly worker: Worker;
  private readonly slots: Int32Array;
  private readonly maxPauseMs: number;
  private readonly onError: (error: Error) => void;
  private readonly writerBusy: () => boolean;
  private readonly onAutoCheckpoint: (pages: number) => void;
  private running = false;
  private stopped: Promise<void> | null = null;
  private gate: Promise<void> | null = null;
  private openGate: (() => void) | null = null;
  private pauseTimer: NodeJS.Timeout | null = null;
  private pauseRound = 0;
  private failed = false;
  private pauseStarted = 0;
  private pauses = 0;
  private longestPauseMs = 0;
  private readonly exited: Promise<void>;

  private constructor(db: Database, file: string, options: WalCheckpointerOptions) {
    this.db = db;
    this.maxPauseMs = options.maxPauseMs ?? 2000;
    this.onError = options.onError ?? ((error) => process.emitWarning(`agentguard: ${error.message}`));
    this.writerBusy = options.writerBusy ?? (() => false);
    this.onAutoCheckpoint = options.onAutoCheckpoint ?? (() => undefined);
    const state = new SharedArrayBuffer(SLOTS * Int32Array.BYTES_PER_ELEMENT);
    this.slots = new Int32Array(state);
    const pageSize = db.pragma('page_size', { simple: true }) as number;
    const data: CheckpointWorkerData = {
      file,
      state,
      intervalMs: options.intervalMs ?? 20,
      // A frame is a page and its 24-byte header.
      restartFrames: Math.max(1, Math.floor((options.restartBytes ?? 16 * 2 ** 20) / (pageSize + 24))),
      pauseAnswerMs: options.pauseAnswerMs ?? 1000,
      retryMs: options.retryMs ?? 200,
      busyTimeoutMs: options.busyTimeoutMs,
    };
    const { entry, eval: isCode } = workerEntry(import.meta.url, 'wal-checkpoint-worker');
    this.worker = new Worker(entry, { eval: isCode, workerData: data });
    // A store somebody forgot to close must not keep the process alive.
    this.worker.unref();
    this.worker.on('message', (message: FromCheckpointWorker) => this.onMessage(message));
    this.worker.on('error', (error) => this.fail(error));
    this.exited = new Promise((resolve) => {
      this.worker.once('exit', (code) => {
        if (code !== 0 && !this.stopped) this.fail(new Error(`the background checkpoint thread exited with code ${code}`));
        this.running = false;
        this.release();
        resolve();
      });
    });
  }

  /** Starts the thread for the database `file`, open in WAL mode as `db` (the writer). */
  static start(db: Database, file: string, options: WalCheckpointerOptions): WalCheckpointer {
    return new WalCheckpointer(db, file, options);
  }

  /**
   * Null when the writer may append now; otherwise a promise that resolves when it may. Call it before every append
   * (transaction) and await a non-null result: it is also how the writer answers the thread's request to pause.
   */
  writable(): Promise<void> | null {
    if (this.gate) return this.gate;
    if (this.slots[PAUSE_SLOT] === PAUSE_REQUESTED) return this.acknowledgePause();
    return null;
  }

  stats(): WalCheckpointStats {
    return {
      running: this.running,
      checkpoints: Atomics.load(this.slots, CHECKPOINTS_SLOT),
      restarts: Atomics.load(this.slots, RESTARTS_SLOT),
      pauses: this.pauses,
      longestPauseMs: this.longestPauseMs,
      walFrames: Atomics.load(this.slots, WAL_FRAMES_SLOT),
      maxWalFrames: Atomics.load(this.slots, MAX_WAL_FRAMES_SLOT),
    };
  }

  /**
   * Stops the thread and closes its connection, and gives checkpoints back to SQLite; resolves when the thread has
   * exited. Call before closing the writer.
   */
  stop(): Promise<void> {
    this.stopped ??= (async () => {
      // Until it has exited, the thread must keep the process alive, or a process ending with close() would exit
      // while it still waits for it.
      this.worker.ref();
      this.worker.postMessage({ type: 'stop' });
      await this.exited;
      this.release();
      this.restoreAutoCheckpoint();
    })();
    return this.stopped;
  }

  private onMessage(message: FromCheckpointWorker): void {
    switch (message.type) {
      case 'ready':
        // From now on the thread checkpoints; two checkpointers would only take turns failing with SQLITE_BUSY.
        this.db.pragma('wal_autocheckpoint = 0');
        this.onAutoCheckpoint(0);
        this.running = true;
        break;
      case 'pause':
        // Between two turns of the event loop no transaction of this connection is open; one of a writer thread may
        // be: then the writer answers before its next append (writable()).
        if (!this.gate && this.slots[PAUSE_SLOT] === PAUSE_REQUESTED && !this.writerBusy()) void this.acknowledgePause();
        break;
      case 'resume':
        if (message.round === this.pauseRound) this.release();
        break;
      case 'failed':
        this.fail(new Error(message.message));
        break;
    }
  }

  private acknowledgePause(): Promise<void> | null {
    if (Atomics.compareExchange(this.slots, PAUSE_SLOT, PAUSE_REQUESTED, PAUSE_ACKNOWLEDGED) !== PAUSE_REQUESTED) return this.gate;
    Atomics.notify(this.slots, PAUSE_SLOT);
    this.pauseRound = Atomics.load(this.slots, ROUND_SLOT);
    this.pauseStarted = performance.now();
    this.gate = new Promise((resolve) => (this.openGate = resolve));
    // Appends must not wait on a thread that hangs.
    this.pauseTimer = setTimeout(() => this.release(), this.maxPauseMs);
    return this.gate;
  }

  private release(): void {
    if (!this.gate) return;
    if (this.pauseTimer) clearTimeout(this.pauseTimer);
    this.pauseTimer = null;
    this.pauses++;
    this.longestPauseMs = Math.max(this.longestPauseMs, performance.now() - this.pauseStarted);
    const open = this.openGate!;
    this.gate = null;
    this.openGate = null;
    open();
  }

  private fail(error: Error): void {
    if (this.failed) return;
    this.failed = true;
    const wasRunning = this.running;
    this.running = false;
    this.release();
    if (this.stopped) return;
    this.restoreAutoCheckpoint();
    this.onError(new Error(`${error.message}; ${wasRunning ? 'SQLite checkpoints the WAL itself again' : 'SQLite keeps checkpointing the WAL itself'}`));
    void this.worker.terminate();
  }

  private restoreAutoCheckpoint(): void {
    if (this.db.open) this.db.pragma(`wal_autocheckpoint = ${SQLITE_AUTOCHECKPOINT_PAGES}`);
    this.onAutoCheckpoint(SQLITE_AUTOCHECKPOINT_PAGES);
  }
}
