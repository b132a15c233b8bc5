import { createHash } from 'node:crypto';
import type { Action, Decision } from '../action.js';
import { parseDuration } from '../audit/filters.js';
import { canonicalJson } from '../canonical-json.js';
import type { RateWindow } from '../rate/types.js';
import type { CompiledRule } from './compile.js';
import { CompileProblem } from './conditions.js';
import { getPath, MISSING, parsePath } from './path.js';
import type { PathSegment } from './problem.js';
import type { RateDocument } from './types.js';

/** A rule's `rate`, compiled: the counter an action falls in, and the limit of that counter. */
export interface CompiledRate {
  max: number;
  perMs: number;
  window: 'sliding' | 'fixed';
  /** The key paths as written, for explanations. */
  keyPaths: string[];
  /** e.g. `10 per 1m (sliding) by agent.id, name`. */
  label: string;
  /** The counter of an action: a hash of the rule id, the window and the key values (the values are never stored). */
  windowFor(action: Action): RateWindow;
}

/** Compiles a rule's `rate` (the schema has checked its shape). */
export function compileRate(ruleId: string, spec: RateDocument, at: PathSegment[]): CompiledRate {
  const perMs = parseDuration(spec.per);
  if (perMs === undefined || perMs <= 0) throw new CompileProblem(`${JSON.stringify(spec.per)} is not a window length`, [...at, 'per'], 'Write a duration such as 30s, 1m, 1h or 1d.');
  const window = spec.window ?? 'sliding';
  const keyPaths = spec.key ?? [];
  const keys = keyPaths.map((text, i) => {
    const parsed = parsePath(text);
    if (typeof parsed === 'string' || parsed.hasWildcard) throw new CompileProblem(`rate key ${JSON.stringify(text)} is not a path to one value`, [...at, 'key', i], 'Name fields without "*", e.g. agent.id, name, context.user.');
    return parsed.segments;
  });
  const prefix = `${ruleId}\u0000${window}\u0000${perMs}\u0000`;
  return {
    max: spec.max,
    perMs,
    window,
    keyPaths,
    label: `${spec.max} per ${spec.per} (${window})${keyPaths.length > 0 ? ` by ${keyPaths.join(', ')}` : ''}`,
    windowFor(action: Action): RateWindow {
      const values = keys.map((segments) => {
        const v = getPath(action, segments);
        return v === MISSING || v === undefined ? null : v;
      });
      const counter = createHash('sha256').update(prefix).update(canonicalJson(values)).digest('base64url');
      return { counter, rule: ruleId, max: spec.max, perMs, window };
    },
  };
}

/** The rules with a `rate` that an allowed or transformed decision matched, by decision (beside it, never serialised). */
const limitedBy = new WeakMap<Decision, readonly CompiledRule[]>();

/** Notes which of `matched` carry a rate limit, for the pipeline to count the decision against them. */
export function noteRateRules(decision: Decision, matched: readonly CompiledRule[]): Decision {
  let limited: CompiledRule[] | undefined;
  for (const rule of matched) if (rule.rate) (limited ??= []).push(rule);
  if (limited) limitedBy.set(decision, limited);
  return decision;
}

/** The rate-limited rules an allowed or transformed decision matched (empty for other decisions). */
export function rateRulesOf(decision: Decision): readonly CompiledRule[] {
  return limitedBy.get(decision) ?? [];
}
