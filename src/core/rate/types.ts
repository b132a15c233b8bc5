/**
 * Rate limits of policy rules (`rate: { key, max, per, window }`), counted in the store so every process (and, with a
 * shared store, every host) on it shares one count. Only decisions that end up allowed take a slot.
 */

/** One counter and its limit. */
export interface RateWindow {
  /** The counter's id: a hash of the rule id, the window and the key values (never the values themselves). */
  counter: string;
  /** The rule the limit belongs to, for reasons. */
  rule: string;
  max: number;
  perMs: number;
  /**
   * `sliding`: the slots taken in the `perMs` before the decision (at > now - perMs);
   * `fixed`: the slots taken since the start of the current window, windows of `perMs` aligned to the Unix epoch.
   */
  window: 'sliding' | 'fixed';
}

export interface RateTake {
  /** The decision that takes the slots; `release` gives them back by this id. */
  decisionId: string;
  /** The decision's time, in milliseconds since the epoch. */
  at: number;
  windows: RateWindow[];
}

/** Either one slot was taken in every window, or none was taken and `full` lists the windows that had no room. */
export type RateTakeResult =
  | { taken: true }
  | { taken: false; full: Array<{ window: RateWindow; retryAfterMs: number }> };

/** The rate-limit part of the store. */
export interface RateLimitStore {
  /**
   * Takes one slot in every window if each has room, atomically: N processes taking at once never take more than `max`
   * per window between them. Takes nothing when any window is full.
   */
  take(request: RateTake): Promise<RateTakeResult>;
  /** Gives back every slot `decisionId` took (a later stage of the pipeline denied it); nothing when it took none. */
  release(decisionId: string): Promise<void>;
  /** Slots in use in each window at `at`, without taking any. */
  usage(windows: RateWindow[], at: number): Promise<number[]>;
}

/** Where the window that holds `at` starts: the window itself for fixed windows, `at - perMs` (exclusive) for sliding. */
export function windowStart(window: RateWindow, at: number): number {
  return window.window === 'fixed' ? Math.floor(at / window.perMs) * window.perMs : at - window.perMs;
}

/**
 * How long until a full window has room again: for a fixed window, its end; for a sliding one, until enough of the
 * oldest slots leave it. `times` are the slots in the window, oldest first.
 */
export function retryAfterMs(window: RateWindow, at: number, times: readonly number[]): number {
  if (window.window === 'fixed') return windowStart(window, at) + window.perMs - at;
  const mustLeave = times.length - window.max; // 0-based index of the slot whose leaving makes room
  const leaves = (times[Math.max(0, mustLeave)] ?? at) + window.perMs;
  return Math.max(1, leaves - at);
}
