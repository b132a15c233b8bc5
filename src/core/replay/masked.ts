import { CIRCULAR, MASKED, TOO_DEEP } from '../audit/mask.js';

/**
 * Where a recorded action lost information before it was stored: strings holding a mask (`[MASKED]`,
 * `[MASKED:<kind>]`, masked in place inside longer text), content cut at the depth limit, circular references, and
 * fields withheld because their redaction failed. Paths are segments from the action's root; list items by index.
 */
export function maskedPaths(action: unknown): string[][] {
  const out: string[][] = [];
  const path: string[] = [];
  const walk = (value: unknown, depth: number) => {
    if (typeof value === 'string') {
      if (isMaskedText(value)) out.push([...path]);
      return;
    }
    if (value === null || typeof value !== 'object' || depth > 64) return;
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        path.push(String(i));
        walk(value[i], depth + 1);
        path.pop();
      }
    } else {
      for (const k in value) {
        path.push(k);
        walk((value as Record<string, unknown>)[k], depth + 1);
        path.pop();
      }
    }
  };
  walk(action, 0);
  return out;
}

/** True when stored JSON text may hold a masked value: a cheap test before parsing and walking it. */
export function mayHoldMask(text: string): boolean {
  return text.includes(MASK_PREFIX) || text.includes(TOO_DEEP) || text.includes(CIRCULAR) || text.includes(WITHHELD_PREFIX);
}

const MASK_PREFIX = MASKED.slice(0, -1); // `[MASKED`, also the start of `[MASKED:<kind>]`
const WITHHELD_PREFIX = '[withheld';

function isMaskedText(text: string): boolean {
  return text.includes(MASK_PREFIX) || text === TOO_DEEP || text === CIRCULAR || text.startsWith(WITHHELD_PREFIX);
}

/** True when a condition path (with `*` for any element) and a masked path can reach the same value. */
export function overlaps(read: readonly string[], masked: readonly string[]): boolean {
  const n = Math.min(read.length, masked.length);
  for (let i = 0; i < n; i++) if (read[i] !== masked[i] && read[i] !== '*') return false;
  return true;
}
