import { canonicalJson } from '../../canonical-json.js';
import { indexValues } from '../conditions.js';
import type { PolicyDocument, RuleDocument } from '../types.js';
import { collectConjunction, matchesEverything } from './facts.js';
import { lintProblem, type LintProblem } from './lint-problem.js';
import { impliesCondition } from './logic.js';

/** Rule pairs compared before giving up on the (quadratic) shadowing check for a huge policy. */
const MAX_COMPARISONS = 200_000;

/** Rules with equal keys have the same effect, conditions and steps (key order does not matter). */
function ruleKey(rule: RuleDocument): string {
  return canonicalJson([rule.effect, matchesEverything(rule.when) ? null : rule.when, rule.transform ?? null]);
}

interface DenyRule {
  rule: RuleDocument;
  index: number;
  names?: Set<string>;
  kinds?: Set<string>;
}

function subset(a: Set<string> | undefined, b: Set<string> | undefined): boolean {
  if (!b) return true;
  if (!a) return false;
  for (const v of a) if (!b.has(v)) return false;
  return true;
}

/**
 * Rules that can never decide anything:
 * - every rule, when a deny rule has no `when` (it denies every action);
 * - a rule identical in effect, conditions (and steps) to an earlier one;
 * - an allow, transform or require_approval rule whose conditions imply a deny rule's (deny wins whatever the order).
 * Rules in `skip` (they never match) are left out.
 */
export function checkShadowing(doc: PolicyDocument, skip: ReadonlySet<number>): LintProblem[] {
  const problems: LintProblem[] = [];
  const rules = doc.rules;
  const denyAll = rules.findIndex((r, i) => r.effect === 'deny' && matchesEverything(r.when) && !skip.has(i));
  const denies: DenyRule[] = rules
    .map((rule, index) => ({ rule, index, names: indexValues(rule.when, 'name'), kinds: indexValues(rule.when, 'kind') }))
    .filter((d) => d.rule.effect === 'deny' && !skip.has(d.index));
  // A deny rule limited to some names can only be implied by a rule limited to a subset of them: index by name.
  const anyNameDenies = denies.filter((d) => !d.names);
  const deniesByName = new Map<string, DenyRule[]>();
  for (const d of denies) {
    for (const n of d.names ?? []) {
      const list = deniesByName.get(n);
      if (list) list.push(d);
      else deniesByName.set(n, [d]);
    }
  }
  const firstWithKey = new Map<string, number>();
  let comparisons = 0;

  rules.forEach((rule, index) => {
    if (skip.has(index)) return;
    const at = ['rules', index, 'id'];
    if (denyAll !== -1 && denyAll !== index) {
      problems.push(
        lintProblem('warning', 'shadowed-rule', at, `rule "${rule.id}" never decides anything: deny rule "${rules[denyAll].id}" (rules[${denyAll}]) has no conditions, so every action is denied`, `Give rule "${rules[denyAll].id}" a "when", or remove it and set default: deny instead.`),
      );
      return;
    }
    const key = ruleKey(rule);
    const twin = firstWithKey.get(key);
    if (twin === undefined) firstWithKey.set(key, index);
    else {
      problems.push(lintProblem('warning', 'duplicate-rule', at, `rule "${rule.id}" has the same effect and conditions as rule "${rules[twin].id}" (rules[${twin}]), so it adds nothing`, 'Remove one of the two rules, or merge their messages.'));
      return;
    }
    if (rule.effect === 'deny' || matchesEverything(rule.when)) return;
    const names = indexValues(rule.when, 'name');
    const kinds = indexValues(rule.when, 'kind');
    const conj = collectConjunction(rule.when, []);
    const named = names && names.size > 0 ? (deniesByName.get(names.values().next().value as string) ?? []) : [];
    for (const deny of [...anyNameDenies, ...named]) {
      if (!subset(names, deny.names) || !subset(kinds, deny.kinds)) continue;
      if (++comparisons > MAX_COMPARISONS) return;
      if (impliesCondition({ checks: conj.checks, anys: conj.anys, nots: conj.nots.map((n) => n.condition), detects: conj.detects }, deny.rule.when)) {
        problems.push(
          lintProblem(
            'warning',
            'shadowed-rule',
            at,
            `${rule.effect} rule "${rule.id}" never decides anything: whenever it matches, deny rule "${deny.rule.id}" (rules[${deny.index}]) matches too, and deny always wins`,
            `Narrow deny rule "${deny.rule.id}" so that it does not cover this rule, or remove this rule.`,
          ),
        );
        return;
      }
    }
  });
  return problems;
}
