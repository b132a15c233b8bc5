import { checkAction, type Action, type Effect } from '../action.js';
import { candidateRules, type CompiledPolicy, type CompiledRule } from '../policy/compile.js';
import type { CondNode } from '../policy/conditions.js';
import type { EvalContext } from '../policy/eval-context.js';
import { overlaps } from './masked.js';

// What a condition can come to, as a set: true, false, or an error (which makes a rule that could deny a deny).
const T = 1;
const F = 2;
const E = 4;

/**
 * The results a condition can have given that the values at `masked` are unknown (three-valued, with errors): a leaf
 * that reads a masked value may be true, false or fail (a parsed view of a secret may not parse); any other leaf is
 * evaluated. `all`/`any` stop at the first false/true exactly as evaluation does, so an error after a short-circuit is
 * only possible when the short-circuit is.
 */
export function conditionOutcomes(node: CondNode, action: Action, ctx: EvalContext | undefined, masked: readonly string[][]): number {
  if (node.children) {
    if (node.label === 'not') {
      const r = conditionOutcomes(node.children[0], action, ctx, masked);
      return (r & T ? F : 0) | (r & F ? T : 0) | (r & E);
    }
    const any = node.label === 'any';
    let result = 0;
    let goingOn = true;
    for (const child of node.children) {
      if (!goingOn) break;
      const r = conditionOutcomes(child, action, ctx, masked);
      result |= r & E;
      if (any) {
        result |= r & T;
        goingOn = (r & F) !== 0;
      } else {
        result |= r & F;
        goingOn = (r & T) !== 0;
      }
    }
    if (goingOn) result |= any ? F : T;
    return result;
  }
  if (dependsOnMasked(node, masked)) return T | F | E;
  try {
    return node.test(action, ctx) ? T : F;
  } catch {
    return E;
  }
}

function dependsOnMasked(node: CondNode, masked: readonly string[][]): boolean {
  if (masked.length === 0) return false;
  // A leaf that does not say what it reads could read anything.
  if (!node.reads) return true;
  if (node.reads.presenceOnly) return false; // a masked value is still there
  return node.reads.paths.some((read) => masked.some((m) => overlaps(read, m)));
}

type Contribution = 'none' | Effect;
const RANK: Record<Contribution, number> = { none: 0, allow: 1, transform: 2, require_approval: 3, deny: 4 };

/**
 * Every effect the policy can give this action when the values at `masked` are unknown, by the same combining as
 * evaluation (deny > require_approval > transform > allow > default; an error in a rule that could deny denies).
 * One effect: the decision does not depend on the masked values. Transform steps are taken to succeed (masking keeps
 * a string a string).
 */
export function possibleEffects(policy: CompiledPolicy, action: Action, ctx: EvalContext | undefined, masked: readonly string[][]): Set<Effect> {
  if (checkAction(action).length > 0) return new Set(['deny']);
  let base: Contribution = 'none';
  const open: Array<Set<Contribution>> = [];
  for (const rule of candidateRules(policy, action.kind, action.name)) {
    const outcomes = rule.condition ? conditionOutcomes(rule.condition, action, ctx, masked) : T;
    const options = contributions(rule, outcomes);
    if (options.size === 1) {
      const [only] = options;
      if (RANK[only] > RANK[base]) base = only;
    } else open.push(options);
  }
  const tops = new Set<Contribution>();
  // A contribution c is the highest of the open rules' choices when one of them can give c and all can stay at or below it.
  const candidates = new Set<Contribution>(['none']);
  for (const options of open) for (const c of options) candidates.add(c);
  for (const c of candidates) {
    const reachable = c === 'none' ? open.every((o) => o.has('none')) : open.some((o) => o.has(c)) && open.every((o) => [...o].some((x) => RANK[x] <= RANK[c]));
    if (reachable) tops.add(RANK[c] > RANK[base] ? c : base);
  }
  return new Set([...tops].map((c) => (c === 'none' ? policy.defaultEffect : c)));
}

function contributions(rule: CompiledRule, outcomes: number): Set<Contribution> {
  const out = new Set<Contribution>();
  if (outcomes & T) out.add(rule.effect);
  if (outcomes & F) out.add('none');
  if (outcomes & E) out.add(rule.effect === 'allow' ? 'none' : 'deny');
  return out;
}
