import type { DetectOptions, Finding, Guardrail } from './types.js';

/** How much a memoised guardrail keeps: results of at most `entries` texts holding at most `maxChars` characters together. */
export interface DetectMemoLimits {
  entries: number;
  maxChars: number;
}

/**
 * Defaults: a chat client resends the system prompt and the whole history with every call, so most of each request's
 * text was already inspected by the previous call. At most 2 MB of text per guardrail.
 */
export const DEFAULT_MEMO_LIMITS: DetectMemoLimits = { entries: 1024, maxChars: 1_000_000 };

const EMPTY: readonly Finding[] = Object.freeze([]);

/**
 * A guardrail that remembers its findings per text, for built-in local guardrails only: they are pure functions of the
 * text and their config, so a remembered answer is the answer. Results are frozen because they are shared. Calls with
 * options, texts longer than a tenth of `maxChars`, and failures are not remembered. The least recently used texts go
 * first when a limit is reached.
 */
export function memoizeDetect(guardrail: Guardrail, limits: DetectMemoLimits = DEFAULT_MEMO_LIMITS): Guardrail {
  const kept = new Map<string, readonly Finding[]>();
  let chars = 0;
  const longest = Math.floor(limits.maxChars / 10);
  const remember = (text: string, findings: Finding[]): readonly Finding[] => {
    const frozen = findings.length === 0 ? EMPTY : Object.freeze(findings.map((f) => Object.freeze({ ...f })));
    if (text.length > longest) return frozen;
    kept.set(text, frozen);
    chars += text.length;
    for (const [oldest] of kept) {
      if (kept.size <= limits.entries && chars <= limits.maxChars) break;
      kept.delete(oldest);
      chars -= oldest.length;
    }
    return frozen;
  };
  const detect = (text: string, options?: DetectOptions): Finding[] => {
    if (options !== undefined && (options.types !== undefined || options.minScore !== undefined)) return guardrail.detect(text, options) as Finding[];
    const found = kept.get(text);
    if (found !== undefined) {
      // Most recently used goes last, so eviction takes the least recently used.
      kept.delete(text);
      kept.set(text, found);
      return found as Finding[];
    }
    return remember(text, guardrail.detect(text) as Finding[]) as Finding[];
  };
  return Object.freeze({
    name: guardrail.name,
    description: guardrail.description,
    types: guardrail.types,
    maxSpanLength: guardrail.maxSpanLength,
    ...(guardrail.maxSpanLengthOf ? { maxSpanLengthOf: (types: readonly string[]) => guardrail.maxSpanLengthOf!(types) } : {}),
    detect,
  });
}
