import type { Action, Decision, Reason } from '../action.js';
import type { CompiledRule } from '../policy/compile.js';
import { rateRulesOf } from '../policy/rate.js';
import type { RateLimitStore, RateTakeResult, RateWindow } from './types.js';

/** Reason code of a decision denied because a rule's rate limit was reached. */
export const RATE_LIMITED = 'rate_limited';
/** Reason code of a decision denied because its rate limits could not be counted (the store failed). */
export const RATE_LIMIT_UNAVAILABLE = 'rate_limit_unavailable';

/** What counting a decision did: the decision (denied when limited), and whether it holds slots to give back on a later deny. */
export interface RateOutcome {
  decision: Decision;
  took: boolean;
}

/**
 * The windows an allowed or transformed decision must take a slot in (none for other decisions), keyed by the action
 * as it was decided (`subject`), not as a transform rewrote it.
 */
export function rateWindowsOf(decision: Decision, subject: Action = decision.action): { rules: readonly CompiledRule[]; windows: RateWindow[] } {
  const rules = rateRulesOf(decision);
  if (rules.length === 0 || (decision.effect !== 'allow' && decision.effect !== 'transform')) return { rules: [], windows: [] };
  return { rules, windows: rules.map((rule) => rule.rate!.windowFor(subject)) };
}

/**
 * Counts an allowed or transformed decision against the rate limits of the rules it matched: one slot in each, taken
 * atomically in the store, or none and a deny (`rate_limited`, with `retryAfter` in seconds) when any is full. Other
 * decisions, and those that matched no limited rule, are returned as they are. A store that fails denies.
 */
export async function takeRateSlots(store: RateLimitStore, decision: Decision, at: Date, subject: Action = decision.action): Promise<RateOutcome> {
  let rules: readonly CompiledRule[];
  let result: RateTakeResult;
  try {
    const needed = rateWindowsOf(decision, subject);
    rules = needed.rules;
    if (needed.windows.length === 0) return { decision, took: false };
    result = await store.take({ decisionId: decision.id, at: at.getTime(), windows: needed.windows });
  } catch (error) {
    const reason: Reason = { effect: 'deny', code: RATE_LIMIT_UNAVAILABLE, message: `The rate limits could not be counted (${(error as Error).message}), so the action is denied` };
    return { decision: { ...decision, effect: 'deny', reasons: [...decision.reasons, reason] }, took: false };
  }
  return applyTake(decision, rules, result);
}

/** The decision as a take left it: unchanged when the slots were taken, else denied with a reason per full window. */
export function applyTake(decision: Decision, rules: readonly CompiledRule[], result: RateTakeResult): RateOutcome {
  if (result.taken) return { decision, took: true };
  const reasons: Reason[] = result.full.map(({ window, retryAfterMs }) => {
    const retryAfter = Math.max(1, Math.ceil(retryAfterMs / 1000));
    const rate = rules.find((r) => r.id === window.rule)?.rate;
    return {
      rule: window.rule,
      effect: 'deny',
      code: RATE_LIMITED,
      message: `Rate limit of rule "${window.rule}" reached (${rate?.label ?? `${window.max} per window`}); retry in ${retryAfter} s`,
      retryAfter,
    };
  });
  return { decision: { ...decision, effect: 'deny', reasons: [...decision.reasons, ...reasons] }, took: false };
}
