/**
 * What WalCheckpointer and its thread (wal-checkpoint-worker.ts) share: the worker's start data, the messages, and
 * the slots of the shared Int32Array through which the thread asks the writer to pause and reports its counters.
 */

/** Slot: the pause handshake, one of RUNNING, PAUSE_REQUESTED, PAUSE_ACKNOWLEDGED. */
export const PAUSE_SLOT = 0;
/** Slot: checkpoints run so far. */
export const CHECKPOINTS_SLOT = 1;
/** Slot: times the WAL was seen to restart (to hold fewer frames than at the previous pass). */
export const RESTARTS_SLOT = 2;
/** Slot: frames in the WAL at the latest pass. */
export const WAL_FRAMES_SLOT = 3;
/** Slot: the most frames the WAL held at any pass. */
export const MAX_WAL_FRAMES_SLOT = 4;
/** Slot: the number of the latest pause request, so that a late `resume` cannot end a newer pause. */
export const ROUND_SLOT = 5;
/** Slots in the shared array. */
export const SLOTS = 6;

/** The writer appends freely. */
export const RUNNING = 0;
/** The thread wants the writer to hold its appends. */
export const PAUSE_REQUESTED = 1;
/** The writer holds its appends until the thread sends `resume`. */
export const PAUSE_ACKNOWLEDGED = 2;

export interface CheckpointWorkerData {
  /** The database file. */
  file: string;
  /** A SharedArrayBuffer of SLOTS Int32 slots. */
  state: SharedArrayBuffer;
  intervalMs: number;
  restartFrames: number;
  /** How long to wait for the writer to pause before giving up this time. */
  pauseAnswerMs: number;
  /** How long to wait after a restart that could not be done (a reader used the WAL, or the writer did not pause). */
  retryMs: number;
  busyTimeoutMs: number;
}

export type ToCheckpointWorker = { type: 'stop' };

export type FromCheckpointWorker =
  | { type: 'ready' }
  /** The thread set PAUSE_REQUESTED; a writer with nothing to append answers it here. */
  | { type: 'pause'; round: number }
  /** The catch-up of that round is done: appends may go on. */
  | { type: 'resume'; round: number }
  | { type: 'failed'; message: string };
