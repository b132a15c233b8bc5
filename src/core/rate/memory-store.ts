import { retryAfterMs, windowStart, type RateLimitStore, type RateTake, type RateTakeResult, type RateWindow } from './types.js';

/**
 * Rate-limit counters held in this process only: what `policy replay` counts with (it must write nothing, and it
 * replays recorded decisions in their recorded order with their recorded times). Not for enforcement across processes.
 */
export class MemoryRateLimitStore implements RateLimitStore {
  /** Slot times per counter, oldest first, with the decision that took each. */
  private readonly slots = new Map<string, Array<{ at: number; decisionId: string }>>();

  async take(request: RateTake): Promise<RateTakeResult> {
    return this.takeNow(request);
  }

  /** `take`, synchronously (replay's hot loop). */
  takeNow({ decisionId, at, windows }: RateTake): RateTakeResult {
    const full: Array<{ window: RateWindow; retryAfterMs: number }> = [];
    for (const window of windows) {
      const times = this.inWindow(window, at);
      if (times.length >= window.max) full.push({ window, retryAfterMs: retryAfterMs(window, at, times) });
    }
    if (full.length > 0) return { taken: false, full };
    for (const window of windows) {
      let list = this.slots.get(window.counter);
      if (!list) this.slots.set(window.counter, (list = []));
      list.push({ at, decisionId });
      if (list.length > 1 && list[list.length - 2].at > at) list.sort((a, b) => a.at - b.at);
    }
    return { taken: true };
  }

  async release(decisionId: string): Promise<void> {
    for (const [counter, list] of this.slots) {
      const kept = list.filter((s) => s.decisionId !== decisionId);
      if (kept.length !== list.length) this.slots.set(counter, kept);
    }
  }

  async usage(windows: RateWindow[], at: number): Promise<number[]> {
    return windows.map((w) => this.inWindow(w, at).length);
  }

  /** Slot times in the window that holds `at`, oldest first; drops slots too old for any later window of it. */
  private inWindow(window: RateWindow, at: number): number[] {
    const list = this.slots.get(window.counter);
    if (!list) return [];
    const start = windowStart(window, at);
    const fixed = window.window === 'fixed';
    let drop = 0;
    while (drop < list.length && (fixed ? list[drop].at < start : list[drop].at <= start)) drop++;
    if (drop > 0) list.splice(0, drop);
    const end = fixed ? start + window.perMs : Infinity;
    const times: number[] = [];
    for (const s of list) if (s.at < end) times.push(s.at);
    return times;
  }
}
