import type { Decision, Reason } from '../action.js';
import { rateRulesOf } from '../policy/rate.js';
import type { RateLimitStore, RateTakeResult } from './types.js';

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
 * Counts an allowed or transformed decision against the rate limits of the rules it matched: one slot in each, taken
 * atomically in the store, or none and a deny (`rate_limited`, with `retryAfter` in seconds) when any is full. Other
 * decisions, and those that matched no limited rule, are returned as they are. A store that fails denies.
 */
export async function takeRateSlots(store: RateLimitStore, decision: Decision, at: Date): Promise<RateOutcome> {
  const rules = rateRulesOf(decision);
  if (rules.length === 0 || (decision.effect !== 'allow' && decision.effect !== 'transform')) return { decision, took: false };
  let result: RateTakeResult;
  try {
    const windows = rules.map((rule) => rule.rate!.windowFor(decision.action));
    result = await store.take({ decisionId: decision.id, at: at.getTime(), windows });
  } catch (error) {
    const reason: Reason = { effect: 'deny', code: RATE_LIMIT_UNAVAILABLE, message: `The rate limits could not be counted (${(error as Error).message}), so the action is denied` };
    return { decision: { ...decision, effect: 'deny', reasons: [...decision.reasons, reason] }, took: false };
  }
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
