import type { Decision } from '../../core/action.js';

/** Decisions kept for outcome reports by default. */
export const DEFAULT_DECISION_CACHE_SIZE = 10_000;

interface Entry {
  decision: Decision;
  outcomeRecorded: boolean;
}

/**
 * The most recent decisions, by id, so `POST /v1/decisions/:id/outcome` can record an outcome against the decision
 * it belongs to. Bounded (least recently used go first): an outcome is reported right after the action ran, and the
 * audit store has no index on decision ids that would make a lookup there cheap.
 *
 * @example
 * const cache = new DecisionCache(10_000);
 * cache.add(decision);
 * cache.get(decision.id)?.decision;
 */
export class DecisionCache {
  private readonly entries = new Map<string, Entry>();
  readonly capacity: number;

  constructor(capacity = DEFAULT_DECISION_CACHE_SIZE) {
    this.capacity = Math.max(1, capacity);
  }

  get size(): number {
    return this.entries.size;
  }

  add(decision: Decision): void {
    this.entries.delete(decision.id);
    this.entries.set(decision.id, { decision, outcomeRecorded: false });
    if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value as string);
  }

  /** The entry of a decision (refreshing its place), or undefined when it is unknown or was evicted. */
  get(id: string): Entry | undefined {
    const entry = this.entries.get(id);
    if (entry) {
      this.entries.delete(id);
      this.entries.set(id, entry);
    }
    return entry;
  }
}
