import { indexValues } from '../conditions.js';
import type { PolicyDocument, RuleDocument, TransformStep } from '../types.js';
import { lintProblem, type LintProblem } from './lint-problem.js';

/** Above this many transform rules the pairwise check is skipped rather than made slow. */
const MAX_TRANSFORM_RULES = 2000;

/** The fields a step writes, as dot paths. */
function writes(step: TransformStep): string[] {
  if ('set' in step) return [step.set];
  if ('remove' in step) return [step.remove];
  if ('clamp' in step) return [step.clamp];
  if ('replace' in step) return [step.replace];
  if ('keep' in step) return [step.in ?? 'input'];
  if ('redact' in step) return [step.redact];
  return [];
}

/** True when one path is the other or lies under it (`input` and `input.limit`). */
function overlaps(a: string, b: string): boolean {
  return a === b || a.startsWith(`${b}.`) || b.startsWith(`${a}.`);
}

function disjoint(a: Set<string> | undefined, b: Set<string> | undefined): boolean {
  if (!a || !b) return false;
  for (const v of a) if (b.has(v)) return false;
  return true;
}

function isAbsent(spec: unknown): boolean {
  return spec !== null && typeof spec === 'object' && !Array.isArray(spec) && (spec as { exists?: unknown }).exists === false;
}

function isLiteral(spec: unknown): boolean {
  return spec === null || ['string', 'number', 'boolean'].includes(typeof spec);
}

/**
 * Two rules that can never match the same action, as far as a cheap look at their top-level conditions tells: literal
 * kinds or names that differ, one field required absent by one rule and present by the other, or different literals.
 */
function exclusive(a: RuleDocument, b: RuleDocument): boolean {
  if (disjoint(indexValues(a.when, 'name'), indexValues(b.when, 'name')) || disjoint(indexValues(a.when, 'kind'), indexValues(b.when, 'kind'))) return true;
  for (const [path, specA] of Object.entries(a.when ?? {})) {
    if (path === 'all' || path === 'any' || path === 'not' || !(path in (b.when ?? {}))) continue;
    const specB = (b.when as Record<string, unknown>)[path];
    if (isAbsent(specA) !== isAbsent(specB)) return true;
    if (isLiteral(specA) && isLiteral(specB) && specA !== specB) return true;
  }
  return false;
}

/**
 * Transform rules apply in file order, so two of them that can match the same action and write the same field give a
 * result that depends on rule order, the one thing the combining rules otherwise never do. Warns about each such pair.
 */
export function checkTransformOrder(doc: PolicyDocument): LintProblem[] {
  const rules = doc.rules.map((rule, index) => ({ rule, index })).filter(({ rule }) => rule.effect === 'transform' && rule.transform);
  if (rules.length > MAX_TRANSFORM_RULES) return [];
  const problems: LintProblem[] = [];
  const written = rules.map(({ rule }) => rule.transform!.flatMap(writes));
  for (let j = 1; j < rules.length; j++) {
    for (let i = 0; i < j; i++) {
      const shared = written[j].find((p) => written[i].some((q) => overlaps(p, q)));
      if (shared === undefined || exclusive(rules[i].rule, rules[j].rule)) continue;
      problems.push(
        lintProblem(
          'warning',
          'order-dependent-transforms',
          ['rules', rules[j].index, 'transform'],
          `rules "${rules[i].rule.id}" and "${rules[j].rule.id}" can both match one action and both write ${shared}; their steps apply in file order, so moving either rule changes the transformed action`,
          'Merge the steps into one rule, or make the two conditions exclusive (for example by name).',
          'key',
        ),
      );
      break;
    }
  }
  return problems;
}
