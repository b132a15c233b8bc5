import { LRUCache } from 'lru-cache';
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
 * lru-cache, not a Map evicted through `keys().next()`: V8 leaves deleted Map entries in place until it rehashes, so
 * finding the oldest live key skips every entry evicted before it, several µs per decision at 10 000 entries.
 *
 * @example
 * const cache = new DecisionCache(10_000);
 * cache.add(decision);
 * cache.get(decision.id)?.decision;
 */
export class DecisionCache {
  private readonly entries: LRUCache<string, Entry>;
  readonly capacity: number;

  constructor(capacity = DEFAULT_DECISION_CACHE_SIZE) {
    this.capacity = Math.max(1, capacity);
    this.entries = new LRUCache({ max: this.capacity });
  }

  get size(): number {
    return this.entries.size;
  }

  add(decision: Decision): void {
    this.entries.set(decision.id, { decision, outcomeRecorded: false });
  }

  /** The entry of a decision (refreshing its place), or undefined when it is unknown or was evicted. */
  get(id: string): Entry | undefined {
    return this.entries.get(id);
  }
}
