import { parsePath } from '../path.js';
import type { PathSegment } from '../problem.js';
import type { PolicyDocument, TransformStep } from '../types.js';
import { atomsOf, collectConjunction, CONTAINER_TYPES, intrinsicTypes, isPrefix, T, typesOfAtom, typeWords, type PathCheck } from './facts.js';
import { lintProblem, type LintProblem } from './lint-problem.js';

/** Fields that decide which rules apply to an action; the transformed action is not evaluated again. */
const ROUTING = [['kind'], ['name'], ['agent', 'id']];

interface StepInfo {
  kind: 'set' | 'remove' | 'keep' | 'clamp' | 'replace';
  /** The path the step reads or writes (for keep: the container). */
  target: string[];
  targetText: string;
  at: PathSegment[];
}

function describeStep(step: TransformStep, at: PathSegment[]): StepInfo | undefined {
  const pick = (kind: StepInfo['kind'], text: string, key: string): StepInfo | undefined => {
    const parsed = parsePath(text);
    return typeof parsed === 'string' ? undefined : { kind, target: parsed.segments, targetText: text, at: [...at, key] };
  };
  if ('set' in step) return pick('set', step.set, 'set');
  if ('remove' in step) return pick('remove', step.remove, 'remove');
  if ('keep' in step) return step.in === undefined ? { kind: 'keep', target: ['input'], targetText: 'input', at: [...at, 'keep'] } : pick('keep', step.in, 'in');
  if ('clamp' in step) return pick('clamp', step.clamp, 'clamp');
  if ('replace' in step) return pick('replace', step.replace, 'replace');
  return undefined;
}

/** The types a plain path must have whenever the rule matches (ANY when unconstrained), and whether it must be missing. */
function constraintsOn(checks: PathCheck[], path: string[]): { types: number; absent: boolean; pathText: string } {
  const text = path.join('.');
  const here = checks.filter((c) => !c.wildcard && c.pathText === text);
  return {
    types: here.flatMap(atomsOf).reduce((acc, a) => acc & typesOfAtom(a), intrinsicTypes(text)),
    absent: here.some((c) => c.absent),
    pathText: text,
  };
}

function overlaps(a: string[], b: string[]): boolean {
  return isPrefix(a, b) || isPrefix(b, a);
}

/**
 * Transform steps that cannot apply given what the rule's own conditions require (errors: the step throws, so every
 * matching action is denied), steps that can never have an effect, and steps that change routing fields.
 */
export function checkTransforms(doc: PolicyDocument): LintProblem[] {
  const problems: LintProblem[] = [];
  const earlierWrites: string[][] = [];
  doc.rules.forEach((rule, index) => {
    if (rule.effect !== 'transform' || !rule.transform) return;
    const checks = collectConjunction(rule.when, []).checks;
    rule.transform.forEach((step, i) => {
      const info = describeStep(step, ['rules', index, 'transform', i]);
      if (!info) return;
      // An earlier step (of this or an earlier transform rule) may have changed the value: then nothing is known.
      const untouched = !earlierWrites.some((w) => overlaps(w, info.target));
      earlierWrites.push(info.target);
      problems.push(...routingProblems(rule.id, step, info));
      if (!untouched) return;
      const problem = applicability(rule.id, checks, info);
      if (problem) problems.push(problem);
    });
  });
  return problems;
}

function applicability(ruleId: string, checks: PathCheck[], info: StepInfo): LintProblem | undefined {
  const { kind, target, targetText, at } = info;
  for (let len = 1; len < target.length; len++) {
    const prefix = constraintsOn(checks, target.slice(0, len));
    const isScalar = (prefix.types & CONTAINER_TYPES) === 0;
    if (!isScalar && !prefix.absent) continue;
    const why = prefix.absent ? `${prefix.pathText} is required to be missing` : `${prefix.pathText} is ${typeWords(prefix.types)}`;
    if (kind === 'set' && !prefix.absent) {
      return lintProblem('error', 'transform-cannot-apply', at, `rule "${ruleId}" sets ${targetText}, but whenever the rule matches ${why}, so the step fails and the action is denied`, `Set ${prefix.pathText} itself, or change the condition on ${prefix.pathText}.`);
    }
    if (kind !== 'set') {
      return lintProblem('warning', 'transform-no-effect', at, `this ${kind} step of rule "${ruleId}" never has an effect: whenever the rule matches ${why}, so ${targetText} never exists`, 'Remove the step, or fix its path.');
    }
  }
  const own = constraintsOn(checks, target);
  if (own.absent && kind !== 'set') {
    return lintProblem('warning', 'transform-no-effect', at, `this ${kind} step of rule "${ruleId}" never has an effect: the rule only matches when ${targetText} is missing`, 'Remove the step, or fix its path.');
  }
  const needs: Partial<Record<StepInfo['kind'], number>> = { clamp: T.number, replace: T.string, keep: T.object };
  const needed = needs[kind];
  if (needed !== undefined && (own.types & needed) === 0) {
    return lintProblem(
      'error',
      'transform-cannot-apply',
      at,
      `rule "${ruleId}" cannot ${kind} ${targetText}: whenever the rule matches it is ${typeWords(own.types)}, and ${kind} needs ${typeWords(needed)}, so the step fails and the action is denied`,
      `Point the step at ${typeWords(needed)} field, or change the condition on ${targetText}.`,
    );
  }
  return undefined;
}

function routingProblems(ruleId: string, step: TransformStep, info: StepInfo): LintProblem[] {
  const hint = 'Decisions are made on the action before transforms; deny the action instead, or let the agent call the other tool itself so that it is checked.';
  if (info.kind === 'keep') {
    if (info.targetText === 'agent' && !('keep' in step && step.keep.includes('id'))) {
      return [lintProblem('warning', 'transform-changes-routing', info.at, `rule "${ruleId}" drops agent.id from the action after the decision, so the action that runs is not the one that was checked`, hint)];
    }
    return [];
  }
  if (info.kind !== 'set' && info.kind !== 'remove') return [];
  if (!ROUTING.some((r) => overlaps(r, info.target))) return [];
  return [
    lintProblem(
      'warning',
      'transform-changes-routing',
      info.at,
      `rule "${ruleId}" ${info.kind === 'set' ? 'sets' : 'removes'} ${info.targetText}, which decides which rules apply; the transformed action is not checked again`,
      hint,
    ),
  ];
}
