import { MISSING } from './path.js';

/** A string found in an action, with the concrete path it was found at. */
export interface TextAt {
  segments: string[];
  text: string;
}

/** Deeper values are refused rather than risking the stack; the sidecar already refuses deeper JSON. */
const MAX_DEPTH = 128;

function own(value: unknown, key: string): unknown {
  if (value === null || typeof value !== 'object') return MISSING;
  if (Array.isArray(value)) return /^(0|[1-9]\d*)$/.test(key) && Number(key) < value.length ? value[Number(key)] : MISSING;
  return Object.prototype.hasOwnProperty.call(value, key) ? (value as Record<string, unknown>)[key] : MISSING;
}

/**
 * Every string under a path (wildcards allowed), at any depth, in document order: for `input.messages` that is every
 * message's content, every text part, tool-call arguments and tool results, not just the last user turn.
 */
export function collectTexts(root: unknown, segments: readonly string[]): TextAt[] {
  const out: TextAt[] = [];
  const walkPath = (value: unknown, i: number, at: string[]) => {
    if (i === segments.length) {
      walkValue(value, at, 0);
      return;
    }
    const s = segments[i];
    if (s === '*') {
      if (value === null || typeof value !== 'object') return;
      const keys = Array.isArray(value) ? value.map((_, k) => String(k)) : Object.keys(value);
      for (const k of keys) walkPath(own(value, k), i + 1, [...at, k]);
      return;
    }
    const next = own(value, s);
    if (next !== MISSING) walkPath(next, i + 1, [...at, s]);
  };
  const walkValue = (value: unknown, at: string[], depth: number) => {
    if (typeof value === 'string') {
      if (value !== '') out.push({ segments: at, text: value });
      return;
    }
    if (value === null || typeof value !== 'object') return;
    if (depth >= MAX_DEPTH) throw new Error(`"${at.join('.')}" is nested more than ${MAX_DEPTH} levels deep`);
    if (Array.isArray(value)) value.forEach((item, k) => walkValue(item, [...at, String(k)], depth + 1));
    else for (const k of Object.keys(value)) walkValue((value as Record<string, unknown>)[k], [...at, k], depth + 1);
  };
  walkPath(root, 0, []);
  return out;
}
