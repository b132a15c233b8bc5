import { Worker } from 'node:worker_threads';
import { appendedRecords, checkEntry } from '../audit/chain.js';
import type { AuditEntry, AuditRecord } from '../audit/types.js';
import { AgentGuardError } from '../errors.js';
import { isErrorCode } from '../errors/registry.js';
import type { AuditWriterData, FromAuditWriter, ToAuditWriter, WriterError } from './audit-writer-protocol.js';
import { workerEntry } from '../worker-entry.js';

interface InFlight {
  entries: AuditEntry[];
  resolve: (records: AuditRecord[]) => void;
  reject: (error: unknown) => void;
}

/**
 * Appends audit entries from a worker thread with its own connection to the database, so that the event loop of a
 * busy writer (the sidecar) never validates, serialises, hashes or commits them: it sends each batch as one JSON
 * string and is answered once the batch's transaction has committed. The chain is extended exactly as by the store's
 * own connection (the same append, which reads the head under the write lock: SQLite's `BEGIN IMMEDIATE`, the chain's
 * advisory lock in PostgreSQL), so appends of this thread and of the store's connection (checkpoints, ledger rows
 * written with their outcome) make one valid chain.
 *
 * A promise resolves only after its entries are committed (durable as SqliteStore describes); it is rejected when the
 * thread fails or stops first, and the entries are then not known to be stored: the caller must not report them as
 * recorded (the sidecar answers such a decision with a deny, `audit_unavailable`).
 *
 * @example
 * const writer = AuditWriterThread.start({ store: 'sqlite', file, busyTimeoutMs: 5000 });
 * const records = await writer.append(entries); // null when the entries cannot go as JSON: append them yourself
 * await writer.stop();
 */
export class AuditWriterThread {
  private readonly worker: Worker;
  private readonly inFlight = new Map<number, InFlight>();
  private nextId = 1;
  private broken: Error | null = null;
  private stopping: Promise<void> | null = null;
  private readonly exited: Promise<void>;
  private readonly onError: (error: Error) => void;

  private constructor(data: AuditWriterData, options: { onError?: (error: Error) => void }) {
    this.onError = options.onError ?? ((error) => process.emitWarning(`agentguard: ${error.message}`));
    const { entry, eval: isCode } = workerEntry(import.meta.url, 'audit-writer-worker');
    this.worker = new Worker(entry, { eval: isCode, workerData: data });
    // Only appends in flight keep the process alive (see append).
    this.worker.unref();
    this.worker.on('message', (message: FromAuditWriter) => this.onMessage(message));
    this.worker.on('error', (error) => this.fail(error));
    this.exited = new Promise((resolve) => {
      this.worker.once('exit', (code) => {
        if (!this.stopping) this.fail(new Error(`the audit writer thread exited with code ${code}`));
        resolve();
      });
    });
  }

  /** Starts the thread for a store's database (created and migrated already; SQLite in WAL mode). */
  static start(data: AuditWriterData, options: { onError?: (error: Error) => void } = {}): AuditWriterThread {
    return new AuditWriterThread(data, options);
  }

  /** False once the thread failed or was stopped: append on the store's own connection instead. */
  get usable(): boolean {
    return this.broken === null && this.stopping === null;
  }

  /** True while a batch sent to the thread has not been answered: its transaction may be open. */
  get busy(): boolean {
    return this.inFlight.size > 0;
  }

  /**
   * Appends `entries` as one transaction in the thread; resolves with the stored records once it committed. Returns
   * null, sending nothing, when the entries have no JSON form (a BigInt, a cycle): the store's own append then gives
   * the error it gives for them. Throws AUDIT_ENTRY_INVALID at once for an entry whose fields are wrong.
   */
  append(entries: AuditEntry[]): Promise<AuditRecord[]> | null {
    entries.forEach((entry, i) => checkEntry(entry, i));
    let json: string;
    try {
      json = JSON.stringify(entries);
    } catch {
      return null;
    }
    if (this.broken) return Promise.reject(this.broken);
    if (this.stopping) return Promise.reject(new Error('the audit writer thread was stopped'));
    const id = this.nextId++;
    if (this.inFlight.size === 0) this.worker.ref();
    const done = new Promise<AuditRecord[]>((resolve, reject) => this.inFlight.set(id, { entries, resolve, reject }));
    this.send({ type: 'append', id, json });
    return done;
  }

  /** Sets the thread connection's wal_autocheckpoint (0 while the background checkpointer runs). */
  autoCheckpoint(pages: number): void {
    if (this.usable) this.send({ type: 'autocheckpoint', pages });
  }

  /** Waits for the batches in flight, then closes the thread's connection and ends it. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      while (this.inFlight.size > 0 && !this.broken) await new Promise((resolve) => setImmediate(resolve));
      this.worker.ref();
      if (!this.broken) this.send({ type: 'stop' });
      else void this.worker.terminate();
      await this.exited;
    })();
    return this.stopping;
  }

  private send(message: ToAuditWriter): void {
    this.worker.postMessage(message);
  }

  private onMessage(message: FromAuditWriter): void {
    switch (message.type) {
      case 'ready':
        break;
      case 'appended':
        this.settle(message.id, (pending) => pending.resolve(appendedRecords(pending.entries, message.placed, message.placed)));
        break;
      case 'failed':
        this.settle(message.id, (pending) => pending.reject(errorOf(message.error)));
        break;
      case 'broken':
        this.fail(errorOf(message.error));
        break;
    }
  }

  private settle(id: number, how: (pending: InFlight) => void): void {
    const pending = this.inFlight.get(id);
    if (!pending) return;
    this.inFlight.delete(id);
    if (this.inFlight.size === 0 && !this.stopping) this.worker.unref();
    how(pending);
  }

  private fail(error: Error): void {
    if (this.broken) return;
    this.broken = new Error(`the audit writer thread failed: ${error.message}`, { cause: error });
    // A batch in flight may or may not have committed: it is refused, never reported as recorded.
    for (const pending of this.inFlight.values()) pending.reject(this.broken);
    this.inFlight.clear();
    if (!this.stopping) this.onError(this.broken);
    void this.worker.terminate();
  }
}

function errorOf(error: WriterError): Error {
  if (isErrorCode(error.agentGuardCode)) return new AgentGuardError(error.agentGuardCode, error.message, error.actions ? { actions: error.actions } : {});
  return Object.assign(new Error(error.message), error.code ? { code: error.code } : {});
}
