import { hash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { DetectOptions, Finding, Guardrail } from './types.js';

/**
 * Texts a memoised guardrail remembers by default. A chat client resends the system prompt and the whole history with
 * every call, so most of each request's text was already inspected by the previous call.
 */
export const DEFAULT_MEMO_ENTRIES = 1024;

const EMPTY: readonly Finding[] = Object.freeze([]);

/**
 * A guardrail that remembers its findings per text, for built-in local guardrails only: they are pure functions of the
 * text and their config, so a remembered answer is the answer. Texts are known by their SHA-256 digest, so no prompt
 * is kept in memory for the memo's sake, and no text can be crafted to pass for another. Results are frozen because
 * they are shared. Calls with options and failures are not remembered; past `entries` texts, the least recently used
 * one goes first.
 */
export function memoizeDetect(guardrail: Guardrail, entries = DEFAULT_MEMO_ENTRIES): Guardrail {
  // Not a Map evicted through keys().next(): V8 keeps deleted entries until it rehashes, so that walk grows with churn.
  const kept = new LRUCache<string, readonly Finding[]>({ max: entries });
  const detect = (text: string, options?: DetectOptions): Finding[] => {
    if (options !== undefined && (options.types !== undefined || options.minScore !== undefined || options.context !== undefined)) return guardrail.detect(text, options) as Finding[];
    const key = hash('sha256', text, 'base64');
    const found = kept.get(key);
    if (found !== undefined) return found as Finding[];
    const findings = guardrail.detect(text) as Finding[];
    const frozen = findings.length === 0 ? EMPTY : Object.freeze(findings.map((f) => Object.freeze({ ...f })));
    kept.set(key, frozen);
    return frozen as Finding[];
  };
  return Object.freeze({
    name: guardrail.name,
    description: guardrail.description,
    types: guardrail.types,
    maxSpanLength: guardrail.maxSpanLength,
    ...(guardrail.maxSpanLengthOf ? { maxSpanLengthOf: (types: readonly string[]) => guardrail.maxSpanLengthOf!(types) } : {}),
    ...(guardrail.contextualTypes ? { contextualTypes: guardrail.contextualTypes } : {}),
    ...(guardrail.resolvesOverlaps ? { resolvesOverlaps: true } : {}),
    ...(guardrail.contextAware ? { contextAware: true } : {}),
    ...(guardrail.prepare ? { prepare: () => guardrail.prepare!() } : {}),
    detect,
  });
}
