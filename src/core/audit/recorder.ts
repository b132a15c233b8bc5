import { AgentGuardError, isAgentGuardError } from '../errors.js';
import { openStore } from '../store/open-store.js';
import type { Store } from '../store/store.js';
import { loadOrCreateSigningKeys, type SigningKeys } from './keys.js';
import { signHead, signHeadSync } from './sign-head.js';
import type { CostStore, LedgerEntry } from '../cost/types.js';
import type { AuditEntry, AuditRecord, Checkpoint, CheckpointReason } from './types.js';

/** Options of AuditRecorder; every one has a default. */
export interface AuditRecorderOptions {
  /** Sign a checkpoint after this many records written by this recorder (default 1000; 0 turns it off). */
  checkpointEvery?: number;
  /** Sign a checkpoint at most this long after the first record not yet covered by one (default 60 000 ms; 0 turns it off). */
  checkpointIntervalMs?: number;
  /** Most entries committed in one transaction (default 1000). */
  maxBatch?: number;
  /**
   * Which appends share a transaction: `turn` (default), every append made in the same turn of the event loop, so
   * requests a server handles in one turn commit together; `microtask`, the appends made before the current callback
   * returns, committed as soon as it does, without waiting for the rest of the event loop (an agent's own calls, where
   * latency matters more than batching across I/O callbacks).
   */
  groupCommit?: 'turn' | 'microtask';
  /**
   * Errors of background checkpoints (the records themselves are safe), and checkpoints found deleted from the store.
   * Default: a process warning (at exit, where a warning would never be printed, a line on stderr).
   */
  onError?: (error: Error) => void;
  /** Clock for checkpoint times (tests). */
  now?: () => Date;
  /** Close the store when the recorder closes (set by `AuditRecorder.open`). */
  ownsStore?: boolean;
}

interface Pending {
  entries: AuditEntry[];
  /** A call's ledger row, settled in the same transaction as the entries (see AppendOptions). */
  ledger?: LedgerEntry;
  resolve: (records: AuditRecord[]) => void;
  reject: (error: unknown) => void;
}

/** Options of AuditRecorder.append. */
export interface AppendOptions {
  /**
   * The ledger row of the LLM call the entries belong to, settled in the same transaction as them (one commit instead
   * of two). A ledger row that cannot be written does not fail the entries: it is reported as a process warning.
   */
  ledger?: LedgerEntry;
}

/**
 * Records audit entries into a Store and signs linked checkpoints (see sign-head.ts): every `checkpointEvery` records,
 * at most `checkpointIntervalMs` after an unsigned record, on `close()`, when the process exits without `close()`
 * (process.exit, the end of the event loop, an uncaught exception: not SIGKILL or a signal without a handler), and,
 * when started with `open()` or `attach()`, at once if the log has records no checkpoint covers (a writer that
 * crashed before signing).
 *
 * Appends made in the same turn of the event loop are committed together in one transaction (group commit), and
 * each promise resolves only after the transaction holding its entries has committed, so a caller never sees an
 * answer whose record is not stored. A caller awaiting each record in turn gets one transaction per record.
 *
 * @example
 * const recorder = await AuditRecorder.open({ dataDir: '.agentguard' });
 * const record = await recorder.record({ type: 'decision', time: new Date().toISOString(), agentId: 'bot',
 *   decisionId: decision.id, effect: decision.effect, rules: ['kb-read'], data: maskedDecision });
 * await recorder.close(); // writes a final checkpoint
 */
export class AuditRecorder {
  readonly store: Store;
  private readonly keys: SigningKeys;
  private readonly every: number;
  private readonly intervalMs: number;
  private readonly maxBatch: number;
  private readonly groupCommit: 'turn' | 'microtask';
  readonly onError: (error: Error) => void;
  private readonly now: () => Date;
  private readonly ownsStore: boolean;
  private queue: Pending[] = [];
  private flushing: Promise<void> | null = null;
  private scheduled = false;
  /** Wakes the flush loop when it waits for its batches in flight and more entries are due to be committed. */
  private wake: (() => void) | null = null;
  private signingForCount = false;
  private sinceCheckpoint = 0;
  private timer: NodeJS.Timeout | null = null;
  private lastCheckpoint: Checkpoint | null = null;
  private closing: Promise<void> | null = null;
  private readonly reportAtExit: (error: Error) => void;

  /** Recorders not closed yet: signed by one 'exit' listener, there while any is open. */
  private static readonly unclosed = new Set<AuditRecorder>();
  private static readonly signAllAtExit = (): void => {
    for (const recorder of AuditRecorder.unclosed) recorder.signAtExit();
  };

  constructor(store: Store, keys: SigningKeys, options: AuditRecorderOptions = {}) {
    this.store = store;
    this.keys = keys;
    this.every = options.checkpointEvery ?? 1000;
    this.intervalMs = options.checkpointIntervalMs ?? 60_000;
    this.maxBatch = Math.max(1, options.maxBatch ?? 1000);
    this.groupCommit = options.groupCommit ?? 'turn';
    this.onError = options.onError ?? ((error) => process.emitWarning(`agentguard: could not sign an audit checkpoint: ${error.message}`));
    this.now = options.now ?? (() => new Date());
    this.ownsStore = options.ownsStore ?? false;
    this.reportAtExit =
      options.onError ??
      ((error) => {
        process.stderr.write(`agentguard: could not sign the audit log as the process exited: ${error.message}\n`);
      });
    if (AuditRecorder.unclosed.size === 0) process.on('exit', AuditRecorder.signAllAtExit);
    AuditRecorder.unclosed.add(this);
  }

  /**
   * Opens the store and the signing keys of a data folder (creating them on first use) and returns a recorder that
   * closes the store when it closes.
   */
  static async open(options: { dataDir: string; file?: string; url?: string; auditWriterThread?: boolean | 'postgres' } & Omit<AuditRecorderOptions, 'ownsStore'>): Promise<AuditRecorder> {
    const { dataDir, file, url, auditWriterThread, ...rest } = options;
    return AuditRecorder.attach(await openStore({ dataDir, file, ...(url !== undefined ? { url } : {}), ...(auditWriterThread ? { auditWriterThread } : {}) }), dataDir, rest);
  }

  /**
   * A recorder over a store the caller opened (closed when the recorder closes), with the signing keys of `dataDir`
   * (created on first use), started like `open()`: records no checkpoint covers are signed at once. Every recorder
   * that writes to a data folder is started this way.
   */
  static async attach(store: Store, dataDir: string, options: Omit<AuditRecorderOptions, 'ownsStore'> = {}): Promise<AuditRecorder> {
    let recorder: AuditRecorder;
    try {
      const keys = loadOrCreateSigningKeys(dataDir);
      // A store of several instances' logs (PostgreSQL) keeps each one's public key, so all can be verified in one place.
      await store.audit.registerSigner?.({ keyId: keys.keyId, publicKeyPem: keys.publicKeyPem });
      recorder = new AuditRecorder(store, keys, { ...options, ownsStore: true });
    } catch (error) {
      await store.close();
      throw error;
    }
    await recorder.signUnsignedHead().catch((error: Error) => recorder.onError(error));
    return recorder;
  }

  /**
   * Signs the head at once when the log has records that no stored checkpoint covers (a writer stopped before
   * signing), so they are protected from now on; `audit verify` lists such a checkpoint as signed at start. Returns
   * the checkpoint, or null when everything was covered.
   */
  async signUnsignedHead(): Promise<Checkpoint | null> {
    const checkpoint = await this.sign('start', true);
    if (checkpoint) this.lastCheckpoint = checkpoint;
    return checkpoint;
  }

  /** The latest checkpoint this recorder signed, if any. */
  get latestCheckpoint(): Checkpoint | null {
    return this.lastCheckpoint;
  }

  /** Records one entry; resolves with the stored record once it is committed. */
  async record(entry: AuditEntry): Promise<AuditRecord> {
    return (await this.append([entry]))[0];
  }

  /** Records entries in order, in one transaction; resolves with the stored records once they are committed. */
  append(entries: AuditEntry[], options: AppendOptions = {}): Promise<AuditRecord[]> {
    if (this.closing) return Promise.reject(closedError());
    if (entries.length === 0) return Promise.resolve([]);
    if (options.ledger && !this.store.cost.settleInTransaction) return Promise.reject(new Error('this store cannot write a ledger row with audit records'));
    return new Promise((resolve, reject) => {
      this.queue.push({ entries, ...(options.ledger ? { ledger: options.ledger } : {}), resolve, reject });
      this.schedule();
    });
  }

  /** The cost store whose ledger rows `append` can write in the same transaction as the records, if it can. */
  get ledgerStore(): CostStore | undefined {
    return this.store.cost.settleInTransaction ? this.store.cost : undefined;
  }

  /** Commits everything queued, then signs and stores a checkpoint at the current head of the log. */
  async checkpoint(reason: CheckpointReason = 'manual'): Promise<Checkpoint> {
    await this.drain();
    return this.writeCheckpoint(reason);
  }

  /** Commits everything queued, signs a final checkpoint when records were written since the last one, and closes. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      try {
        await this.drain();
        this.clearTimer();
        if (this.sinceCheckpoint > 0) await this.writeCheckpoint('close');
      } finally {
        AuditRecorder.unclosed.delete(this);
        if (AuditRecorder.unclosed.size === 0) process.off('exit', AuditRecorder.signAllAtExit);
        if (this.ownsStore) await this.store.close();
      }
    })();
    return this.closing;
  }

  /**
   * Signs, synchronously, what this recorder wrote since its last checkpoint: the process is exiting without close(),
   * and an unsigned tail would be reported by `audit verify` once older than the interval. Entries still queued were
   * never committed (no caller saw them stored) and are not written.
   */
  private signAtExit(): void {
    if (this.sinceCheckpoint === 0) return;
    try {
      const checkpoint = signHeadSync(this.store, this.keys, {
        reason: 'close',
        intervalMs: this.intervalMs,
        ownLatest: this.lastCheckpoint,
        onWarning: (message) => this.reportAtExit(new Error(message)),
        now: this.now,
      });
      if (checkpoint) {
        this.lastCheckpoint = checkpoint;
        this.sinceCheckpoint = 0;
      }
    } catch (error) {
      try {
        this.reportAtExit(error as Error);
      } catch {
        // Nothing else can be done while exiting; the next recorder to open signs these records at start.
      }
    }
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    const run = () => {
      this.scheduled = false;
      if (this.wake) this.wake();
      else void this.pump();
    };
    // `turn`: setImmediate, so requests handled in the same event-loop turn (several HTTP requests) share a transaction.
    if (this.groupCommit === 'turn') setImmediate(run);
    else queueMicrotask(run);
  }

  /** Runs the one flush loop (starting it if needed); it ends when the queue is empty. */
  private pump(): Promise<void> {
    this.flushing ??= this.flush().finally(() => {
      this.flushing = null;
      if (this.queue.length > 0) this.schedule();
    });
    return this.flushing;
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0 || this.flushing) await this.pump();
  }

  /**
   * Commits the queue batch by batch. A batch waits for the one before it to commit, unless the store takes appends in
   * order while earlier ones are in flight (`pipelined`: an audit writer thread): then it is sent as soon as it is
   * formed, so a request waits for its own batch only and the event loop is not left idle while a batch commits.
   */
  private async flush(): Promise<void> {
    const inFlight = new Set<Promise<void>>();
    while (this.queue.length > 0 || inFlight.size > 0) {
      // A request with a ledger row commits on the store's own connection (see AppendOptions): only when nothing is in
      // flight, so it never waits on the event loop for a writer thread's transaction to end.
      const next = inFlight.size === 0 ? this.takeBatch(true) : this.store.audit.pipelined === true && inFlight.size < MAX_BATCHES_IN_FLIGHT ? this.takeBatch(false) : [];
      if (next.length > 0) {
        const commit: Promise<void> = this.commit(next).finally(() => inFlight.delete(commit));
        inFlight.add(commit);
        continue;
      }
      // Woken by a batch committing, or by entries whose turn came (schedule) while batches are in flight.
      const arrived = new Promise<void>((resolve) => (this.wake = resolve));
      await Promise.race([...inFlight, arrived]);
      this.wake = null;
    }
  }

  /**
   * The next batch: whole requests only (a request's entries share one transaction), up to maxBatch entries unless one
   * is bigger. Without `withLedger` it stops before the first request with a ledger row (possibly at once: empty).
   */
  private takeBatch(withLedger: boolean): Pending[] {
    if (this.queue.length === 0 || (!withLedger && this.queue[0].ledger)) return [];
    let take = 1;
    let size = this.queue[0].entries.length;
    while (take < this.queue.length && size + this.queue[take].entries.length <= this.maxBatch && (withLedger || !this.queue[take].ledger)) size += this.queue[take++].entries.length;
    return this.queue.splice(0, take);
  }

  private async commit(batch: Pending[]): Promise<void> {
    let records: AuditRecord[];
    const ledgerErrors = new Map<Pending, Error>();
    const settle = (): void => {
      for (const pending of batch) {
        if (!pending.ledger) continue;
        try {
          this.store.cost.settleInTransaction!(pending.ledger);
        } catch (error) {
          ledgerErrors.set(pending, error as Error);
        }
      }
    };
    try {
      records = await this.store.audit.append(
        batch.flatMap((p) => p.entries),
        batch.some((p) => p.ledger) ? settle : undefined,
      );
    } catch (error) {
      // One caller's invalid entry must not fail the others that happened to share its transaction.
      if (batch.length > 1 && isAgentGuardError(error) && error.code === 'AUDIT_ENTRY_INVALID') {
        for (const pending of batch) await this.commit([pending]);
      } else {
        for (const pending of batch) pending.reject(error);
      }
      return;
    }
    let offset = 0;
    for (const pending of batch) {
      pending.resolve(records.slice(offset, offset + pending.entries.length));
      offset += pending.entries.length;
      const ledgerError = ledgerErrors.get(pending);
      if (ledgerError) {
        process.emitWarning(`agentguard: could not record the cost of ${pending.ledger!.decisionId}: ${ledgerError.message}`, { code: 'AGENTGUARD_AUDIT' });
      }
    }
    this.sinceCheckpoint += records.length;
    if (this.every > 0 && this.sinceCheckpoint >= this.every) {
      // One at a time: batches committing while it is signed must not each sign another.
      if (this.signingForCount) return;
      this.signingForCount = true;
      await this.writeCheckpoint('count')
        .catch((error: Error) => this.onError(error))
        .finally(() => (this.signingForCount = false));
    } else if (this.intervalMs > 0 && !this.timer) {
      this.timer = setTimeout(() => {
        this.timer = null;
        if (this.sinceCheckpoint > 0 && !this.closing) void this.checkpoint('interval').catch((error: Error) => this.onError(error));
      }, this.intervalMs);
      this.timer.unref();
    }
  }

  private async sign(reason: CheckpointReason, onlyIfUnsigned = false): Promise<Checkpoint | null> {
    return signHead(this.store, this.keys, {
      reason,
      intervalMs: this.intervalMs,
      ownLatest: this.lastCheckpoint,
      onlyIfUnsigned,
      onWarning: (message) => this.onError(new Error(message)),
      now: this.now,
    });
  }

  private async writeCheckpoint(reason: CheckpointReason): Promise<Checkpoint> {
    const covered = this.sinceCheckpoint;
    const checkpoint = (await this.sign(reason))!;
    this.sinceCheckpoint = Math.max(0, this.sinceCheckpoint - covered);
    this.lastCheckpoint = checkpoint;
    if (this.sinceCheckpoint === 0) this.clearTimer();
    return checkpoint;
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}

/** Batches sent to a pipelined store before the first of them has committed. */
const MAX_BATCHES_IN_FLIGHT = 8;

function closedError(): AgentGuardError {
  return new AgentGuardError('AUDIT_RECORDER_CLOSED', 'the audit recorder was closed; nothing more can be recorded', {
    actions: ['Open a new recorder (or AgentGuard) instead of reusing a closed one.'],
  });
}
