import { setTimeout as delay } from 'node:timers/promises';

export interface PollOptions {
  /** The wait between the end of one try and the start of the next. */
  intervalMs: number;
  /** Stop trying after this long; the last try is at the bound. No bound when absent. */
  timeoutMs?: number;
  /** Stops the poll before its next try, cutting a wait short. */
  signal?: AbortSignal;
}

export type PollOutcome<T> = { status: 'done'; value: T } | { status: 'timeout' } | { status: 'aborted' };

/**
 * Calls `attempt` at once and then every `intervalMs` until it returns a value (not undefined), the time is up or
 * `signal` aborts. An error thrown by a try ends the poll with that error.
 *
 * @example const ready = await pollUntil(() => (isAlive(pid) ? undefined : true), { intervalMs: 50, timeoutMs: 10_000 });
 */
export async function pollUntil<T>(attempt: () => T | undefined | Promise<T | undefined>, options: PollOptions): Promise<PollOutcome<T>> {
  const deadline = options.timeoutMs === undefined ? Infinity : Date.now() + options.timeoutMs;
  for (;;) {
    if (options.signal?.aborted) return { status: 'aborted' };
    const value = await attempt();
    if (value !== undefined) return { status: 'done', value };
    const left = deadline - Date.now();
    if (left <= 0) return { status: 'timeout' };
    await sleep(Math.min(options.intervalMs, left), options.signal);
  }
}

/** Waits `ms`, or less when `signal` aborts first; never rejects. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return delay(ms, undefined, signal ? { signal } : undefined).then(
    () => undefined,
    () => undefined,
  );
}
