import type { Finding, Guardrail } from '../guardrails/types.js';
import { MISSING } from './path.js';

/** A string found in an action, with the concrete path it was found at. */
export interface TextAt {
  segments: string[];
  text: string;
  /**
   * Set when the text is the name of a key (a secret or personal data can hide there too): its position among the keys
   * of the object at `segments`.
   */
  key?: number;
}

/** Where a text was found, for a finding: a key is named by its position (`input.headers[key 2]`), never by itself. */
export function textPath(at: TextAt): string {
  const path = at.segments.join('.');
  return at.key === undefined ? path : `${path}[key ${at.key}]`;
}

/** Which key names are texts to read. */
export type KeyFilter = (key: string) => boolean;
const ALL_KEYS: KeyFilter = (key) => key !== '';
const PROSE_KEYS: KeyFilter = (key) => /\s/.test(key);

/**
 * The texts a guardrail reads under a path. Span guardrails (pii, secrets) read every key too: an API key or an SSN can
 * be one. Whole-text classifiers (injection, moderation) read keys with a space in them only: sentences, where an
 * instruction can hide, not identifiers they would misread (`previous_response_id` scores as an injection).
 */
export function guardrailTexts(guardrail: Pick<Guardrail, 'maxSpanLength'>, root: unknown, segments: readonly string[]): TextAt[] {
  return collectTexts(root, segments, Number.isFinite(guardrail.maxSpanLength) ? ALL_KEYS : PROSE_KEYS);
}

/** The findings that count in a text: in a key, not those of types the guardrail finds from the words around them. */
export function countedFindings(guardrail: Pick<Guardrail, 'contextualTypes'>, at: TextAt, findings: readonly Finding[]): readonly Finding[] {
  const contextual = guardrail.contextualTypes;
  if (at.key === undefined || contextual === undefined || contextual.length === 0) return findings;
  return findings.filter((f) => !contextual.includes(f.type));
}

/**
 * The types a rule asks for in a text, for Detections.findings: in a key, those that count there. A name the tagger
 * reads over a number (`6556 106 Rue …` as a place) is dropped in a key, and must not hide the number it overlaps.
 */
export function countedTypes(guardrail: Pick<Guardrail, 'contextualTypes' | 'types'>, at: TextAt, types: ReadonlySet<string> | undefined): ReadonlySet<string> | undefined {
  const contextual = guardrail.contextualTypes;
  if (at.key === undefined || contextual === undefined || contextual.length === 0) return types;
  return new Set([...(types ?? guardrail.types)].filter((t) => !contextual.includes(t)));
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
 * message's content, every text part, tool-call arguments and tool results, not just the last user turn. The names of
 * keys under the path that `keys` accepts are texts too (and those a final `*` matches), each right after everything
 * under it, so a caller that renames keys meets the paths through a key before the key itself.
 */
export function collectTexts(root: unknown, segments: readonly string[], keys: KeyFilter = ALL_KEYS): TextAt[] {
  const out: TextAt[] = [];
  const walkPath = (value: unknown, i: number, at: string[]) => {
    if (i === segments.length) {
      walkValue(value, at, 0);
      return;
    }
    const s = segments[i];
    if (s === '*') {
      if (value === null || typeof value !== 'object') return;
      const names = Array.isArray(value) ? value.map((_, k) => String(k)) : Object.keys(value);
      const named = !Array.isArray(value) && i === segments.length - 1;
      names.forEach((k, index) => {
        walkPath(own(value, k), i + 1, [...at, k]);
        if (named && keys(k)) out.push({ segments: at, text: k, key: index });
      });
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
    else {
      Object.keys(value).forEach((k, index) => {
        walkValue((value as Record<string, unknown>)[k], [...at, k], depth + 1);
        if (keys(k)) out.push({ segments: at, text: k, key: index });
      });
    }
  };
  walkPath(root, 0, []);
  return out;
}
