import type { PolicyDocument } from '../types.js';
import { collectConjunction, describeAtom, atomsOfOperators } from './facts.js';
import { lintProblem, type LintProblem } from './lint-problem.js';
import { checkConjunction } from './logic.js';
import { walkOperatorObjects } from './walk.js';

const NEVER_HINT = 'Every key of a "when" (and every item of "all") must hold at once; fix or remove the condition that conflicts.';

/**
 * Rules that can never match (contradictory conditions in one conjunction), `any` branches that can never match,
 * and operators that are never evaluated. Returns the indexes of never-matching rules so that later checks skip them.
 */
export function checkNeverMatch(doc: PolicyDocument): { problems: LintProblem[]; neverMatching: Set<number> } {
  const problems: LintProblem[] = [];
  const neverMatching = new Set<number>();
  doc.rules.forEach((rule, index) => {
    const at = ['rules', index, 'when'];
    const result = checkConjunction(collectConjunction(rule.when, at));
    if (result.contradiction) {
      neverMatching.add(index);
      problems.push(lintProblem('warning', 'never-matches', result.contradiction.at, `rule "${rule.id}" can never match: ${result.contradiction.message}`, NEVER_HINT));
    }
    for (const branch of result.deadBranches) {
      problems.push(
        lintProblem('warning', 'dead-branch', branch.at, `this "any" branch of rule "${rule.id}" can never match: ${branch.contradiction.message}`, 'Remove the branch, or fix the condition that conflicts with the rest of the rule.'),
      );
    }
    walkOperatorObjects(rule.when, at, ({ pathText, ops, at: opsAt, insideNot }) => {
      if (!('exists' in ops)) return;
      const others = atomsOfOperators(ops, opsAt);
      if (insideNot && others.length > 0) {
        problems.push(lintProblem('warning', 'ignored-operator', [...opsAt, 'exists'], `"exists" has no effect inside "not"; only ${others.map(describeAtom).join(', ')} is negated`, 'Move exists next to "not" (on the same path) if you mean to require the field.'));
      } else if (!insideNot && ops.exists === false && others.length > 0) {
        problems.push(
          lintProblem(
            'warning',
            'ignored-operator',
            [...opsAt, 'exists'],
            `with exists: false, ${pathText} matches only when it is missing, so ${others.map(describeAtom).join(', ')} ${others.length === 1 ? 'is' : 'are'} never checked`,
            'Keep only exists: false to require the field to be missing, or remove it to test the value.',
          ),
        );
      }
    });
  });
  return { problems, neverMatching };
}
