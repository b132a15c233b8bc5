/**
 * Runs the same requests through an agentguard policy and its Cedar translation and lists every disagreement.
 * Shared by the bench (which refuses to time engines that disagree) and test/bench-equivalence.test.ts.
 */
import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import { actionToCedarCall, policyToCedar } from './cedar-translate.js';

/** Loads a policy's Cedar translation into Cedar's cache under `setId`, so requests are not charged for parsing it. */
export function preparseCedar(setId, document) {
  const answer = cedar.preparsePolicySet(setId, { staticPolicies: policyToCedar(document) });
  if (answer.type !== 'success') throw new Error(`Cedar rejected the translated policy ${document.name}: ${answer.errors.map((e) => e.message).join('; ')}`);
}

/** The effect and the rules behind it; a default decision names no rule in either engine. */
export function agentguardAnswer(decision) {
  return { effect: decision.effect, rules: decision.reasons.flatMap((r) => (r.rule ? [r.rule] : [])).sort(), errors: [] };
}

export function cedarAnswer(answer) {
  if (answer.type !== 'success') return { effect: 'error', rules: [], errors: answer.errors.map((e) => e.message) };
  const { decision, diagnostics } = answer.response;
  return { effect: decision, rules: [...diagnostics.reason].sort(), errors: diagnostics.errors.map((e) => `${e.policyId}: ${e.error.message}`) };
}

/**
 * Decides every action with both engines (`policy` is an agentguard Policy; `setId` a pre-parsed Cedar set).
 * Returns the mix of outcomes and each request where the effect, the deciding rules, or Cedar's errors differ.
 */
export function compareWithCedar(policy, setId, actions) {
  const mismatches = [];
  const mix = { allow: 0, denyByRule: 0, noRule: 0 };
  for (const action of actions) {
    const ours = agentguardAnswer(policy.evaluate(action));
    const theirs = cedarAnswer(cedar.statefulIsAuthorized(actionToCedarCall(action, setId)));
    if (ours.effect === 'allow') mix.allow++;
    else if (ours.rules.length > 0) mix.denyByRule++;
    else mix.noRule++;
    if (ours.effect !== theirs.effect || ours.rules.join() !== theirs.rules.join() || theirs.errors.length > 0) {
      mismatches.push({ action, agentguard: ours, cedar: theirs });
    }
  }
  return { mix, mismatches };
}
