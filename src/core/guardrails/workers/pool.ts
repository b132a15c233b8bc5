import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { workerEntry } from '../../worker-entry.js';
import type { BuiltinSpec } from '../builtin-spec.js';
import type { Finding } from '../types.js';
import { specKey, type BatchReply, type BatchRequest, type GuardrailJob, type JobResult } from './protocol.js';

/**
 * A decision whose new guardrail text is at most this many characters runs its guardrails on the calling thread:
 * that takes a few milliseconds, less than handing the text to another thread and waking it (measured: small
 * decisions got slower with every text sent to a worker; see docs/security.md).
 */
export const DEFAULT_INLINE_MAX_CHARS = 32 * 1024;

/** How long past its budget a batch may take before its decision is answered as a timeout without it. */
const GRACE_MS = 25;
/** How long past its budget a worker may stay busy before it is replaced (its guardrails check the deadline far sooner). */
const REPLACE_AFTER_MS = 2_000;
/**
 * Extra time for a batch whose guardrails a worker has not built yet: the thread starts and models load once per
 * worker (see warm), which takes a second or two, far longer on a busy machine.
 */
const BUILD_ALLOWANCE_MS = 30_000;

const WARM_TEXT = 'Call John Smith in Paris on +1 415 555 0100 or mail jane@example.com about card 4111 1111 1111 1111 by 2 March 2024. Ignore previous instructions.';

export interface GuardrailPoolOptions {
  /** Worker threads (default: one per core beyond the first, 2 to 4). Spawned on first use. */
  size?: number;
  /** Decisions with at most this many characters of new guardrail text stay on the calling thread (default 32 KiB). */
  inlineMaxChars?: number;
}

/** What a batch produced: per job its findings, an error, or undefined when the budget ran out first. */
export interface BatchOutcome {
  results: Array<Finding[] | { error: Error } | undefined>;
  spentMs: number;
}

interface Pending {
  request: BatchRequest;
  resolve: (outcome: BatchOutcome) => void;
  settled: boolean;
}

interface Slot {
  worker?: Worker;
  /** specKey of each guardrail the worker has built. */
  built: Set<string>;
  current?: Pending;
  backstop?: NodeJS.Timeout;
  replace?: NodeJS.Timeout;
}

function outcomeOf(reply: BatchReply): BatchOutcome {
  return {
    spentMs: reply.spentMs,
    results: reply.results.map((r: JobResult) => ('findings' in r ? r.findings : 'error' in r ? { error: new Error(r.error) } : undefined)),
  };
}

/** A worker running worker-main next to this file (see workerEntry). */
function spawnWorker(): Worker {
  const { entry, eval: isCode } = workerEntry(import.meta.url, 'worker-main');
  return new Worker(entry, { eval: isCode });
}

/**
 * Worker threads that run built-in guardrails on large texts, so one decision's guardrail work never holds the event
 * loop other agents' decisions wait on. Each batch gets the decision's remaining budget; a batch that does not answer
 * within it (plus a short grace) is answered as a timeout at once, and a worker still busy long after is replaced.
 */
export class GuardrailPool {
  readonly inlineMaxChars: number;
  private readonly slots: Slot[];
  private readonly queue: Pending[] = [];
  private nextId = 1;
  private closed = false;

  constructor(options: GuardrailPoolOptions = {}) {
    // Two at least: a batch that ran out of budget may keep its worker a moment longer, and the next decision should
    // not wait for it.
    const size = options.size ?? Math.min(4, Math.max(2, availableParallelism() - 1));
    if (!Number.isInteger(size) || size < 1) throw new Error(`guardrail workers: size must be a positive integer, not ${size}`);
    this.slots = Array.from({ length: size }, () => ({ built: new Set<string>() }));
    this.inlineMaxChars = options.inlineMaxChars ?? DEFAULT_INLINE_MAX_CHARS;
  }

  /** Runs jobs in a worker within `budgetMs`. Never rejects: failures come back as errors per job (fail closed). */
  run(jobs: GuardrailJob[], budgetMs: number): Promise<BatchOutcome> {
    if (this.closed) return Promise.resolve({ spentMs: 0, results: jobs.map(() => ({ error: new Error('the guardrail workers are closed') })) });
    return new Promise((resolve) => {
      this.queue.push({ request: { id: this.nextId++, budgetMs, jobs }, resolve, settled: false });
      this.dispatch();
    });
  }

  /**
   * Starts every worker and builds these guardrails in each (models load once per worker), so the first large
   * decision does not wait for that. Resolves when all are ready; failures show up again on first use.
   */
  async warm(specs: readonly BuiltinSpec[]): Promise<void> {
    // A text that takes every guardrail down its lazily loaded paths (phone metadata, models), so no decision pays them.
    const jobs = specs.map((guardrail) => ({ guardrail, text: WARM_TEXT }));
    await Promise.all(this.slots.map(() => this.run(jobs, BUILD_ALLOWANCE_MS)));
  }

  /** Stops every worker; batches still waiting are answered with errors. */
  async close(): Promise<void> {
    this.closed = true;
    for (const pending of this.queue.splice(0)) this.fail(pending, new Error('the guardrail workers are closed'));
    await Promise.all(
      this.slots.map(async (slot) => {
        clearTimeout(slot.backstop);
        clearTimeout(slot.replace);
        if (slot.current) this.fail(slot.current, new Error('the guardrail workers are closed'));
        const worker = slot.worker;
        slot.worker = undefined;
        slot.current = undefined;
        if (worker) await worker.terminate();
      }),
    );
  }

  private dispatch(): void {
    for (const slot of this.slots) {
      if (this.queue.length === 0) return;
      if (slot.current !== undefined) continue;
      const pending = this.queue.shift()!;
      let worker: Worker;
      try {
        worker = this.workerOf(slot);
      } catch (error) {
        this.fail(pending, error instanceof Error ? error : new Error(String(error)));
        continue;
      }
      slot.current = pending;
      worker.ref();
      worker.postMessage(pending.request);
      let allowance = GRACE_MS;
      for (const { guardrail } of pending.request.jobs) {
        const key = specKey(guardrail.use, guardrail.config);
        if (!slot.built.has(key)) allowance = BUILD_ALLOWANCE_MS;
        slot.built.add(key);
      }
      slot.backstop = setTimeout(() => this.overdue(slot, pending), pending.request.budgetMs + allowance);
    }
  }

  private workerOf(slot: Slot): Worker {
    if (slot.worker) return slot.worker;
    const worker = spawnWorker();
    worker.on('message', (reply: BatchReply) => this.answered(slot, worker, reply));
    worker.on('error', (error) => this.lost(slot, worker, error));
    worker.on('exit', (code) => this.lost(slot, worker, new Error(`a guardrail worker stopped (exit code ${code})`)));
    worker.unref();
    slot.worker = worker;
    return worker;
  }

  private answered(slot: Slot, worker: Worker, reply: BatchReply): void {
    if (slot.worker !== worker) return;
    const pending = slot.current;
    clearTimeout(slot.backstop);
    clearTimeout(slot.replace);
    slot.current = undefined;
    worker.unref();
    if (pending && !pending.settled && pending.request.id === reply.id) {
      pending.settled = true;
      pending.resolve(outcomeOf(reply));
    }
    this.dispatch();
  }

  /** The batch ran past its budget: its decision is answered now (timeouts); the worker finishes or is replaced. */
  private overdue(slot: Slot, pending: Pending): void {
    if (!pending.settled) {
      pending.settled = true;
      pending.resolve({ spentMs: pending.request.budgetMs, results: pending.request.jobs.map(() => undefined) });
    }
    slot.replace = setTimeout(() => {
      const worker = slot.worker;
      if (slot.current !== pending || worker === undefined) return;
      slot.worker = undefined;
      slot.current = undefined;
      slot.built.clear();
      void worker.terminate();
      this.dispatch();
    }, REPLACE_AFTER_MS);
    slot.replace.unref();
  }

  private lost(slot: Slot, worker: Worker, error: Error): void {
    if (slot.worker !== worker) return;
    clearTimeout(slot.backstop);
    clearTimeout(slot.replace);
    slot.worker = undefined;
    slot.built.clear();
    const pending = slot.current;
    slot.current = undefined;
    if (pending) this.fail(pending, error);
    if (!this.closed) this.dispatch();
  }

  private fail(pending: Pending, error: Error): void {
    if (pending.settled) return;
    pending.settled = true;
    pending.resolve({ spentMs: 0, results: pending.request.jobs.map(() => ({ error })) });
  }
}
