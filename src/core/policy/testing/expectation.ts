import type { Decision } from '../../action.js';
import { subsetMismatches } from './subset.js';
import type { Expectation } from './types.js';

/** The rule ids an expectation names, as a list. */
export function expectedRules(expect: Expectation): string[] {
  if (expect.rule === undefined) return [];
  return Array.isArray(expect.rule) ? expect.rule : [expect.rule];
}

/**
 * Compares a decision with what a case expects. Returns one sentence per difference; empty when it matches.
 *
 * @example
 * checkExpectation({ effect: 'deny' }, decision) // ['expected effect deny, got allow']
 */
export function checkExpectation(expect: Expectation, decision: Decision): string[] {
  const failures: string[] = [];
  if (expect.effect !== undefined && expect.effect !== decision.effect) {
    failures.push(`expected effect ${expect.effect}, got ${decision.effect}`);
  }
  const wanted = expectedRules(expect);
  if (wanted.length > 0) {
    const fired = decision.reasons.map((r) => r.rule).filter((r): r is string => r !== undefined);
    const missing = wanted.filter((id) => !fired.includes(id));
    if (missing.length > 0) {
      const got = fired.length > 0 ? fired.map((r) => JSON.stringify(r)).join(', ') : describeRuleless(decision);
      failures.push(`expected rule${missing.length > 1 ? 's' : ''} ${missing.map((r) => JSON.stringify(r)).join(', ')} among the reasons, got ${got}`);
    }
  }
  if (expect.action !== undefined) {
    for (const m of subsetMismatches(expect.action, decision.action, ['action'])) failures.push(`${m.path}: ${m.message}`);
  }
  return failures;
}

function describeRuleless(decision: Decision): string {
  const codes = [...new Set(decision.reasons.map((r) => r.code).filter((c): c is string => c !== undefined))];
  return codes.length > 0 ? `no rule (${codes.join(', ')})` : 'no rule';
}
