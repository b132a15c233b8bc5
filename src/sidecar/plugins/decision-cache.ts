import { LRUCache } from 'lru-cache';

/** Decisions kept for outcome reports by default. */
export const DEFAULT_DECISION_CACHE_SIZE = 10_000;

interface Entry {
  /** The decision as the sidecar answered it: its JSON text. */
  json: string;
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
 * A decision is kept as the JSON text it was answered with, parsed again only when its outcome is reported: one string
 * instead of the dozens of objects of a Decision, which the garbage collector would otherwise copy out of the young
 * generation at every collection while the decision is new and trace in the old one until it is evicted.
 *
 * @example
 * const cache = new DecisionCache(10_000);
 * cache.add(decision.id, JSON.stringify(decision));
 * JSON.parse(cache.get(decision.id)!.json);
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

  /** Remembers decision `id` by its JSON text. */
  add(id: string, json: string): void {
    this.entries.set(id, { json, outcomeRecorded: false });
  }

  /** The entry of a decision (refreshing its place), or undefined when it is unknown or was evicted. */
  get(id: string): Entry | undefined {
    return this.entries.get(id);
  }
}
