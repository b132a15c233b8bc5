import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { checkAction, type Action, type Decision, type Effect, type Reason } from '../action.js';
import type { CondNode } from './conditions.js';
import { candidateRules, type CompiledPolicy, type CompiledRule } from './compile.js';

export function newDecisionId(): string {
  return `dec_${randomUUID().replace(/-/g, '')}`;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function ruleReason(rule: CompiledRule): Reason {
  const fallback: Record<Effect, string> = {
    deny: `Denied by rule "${rule.id}"`,
    require_approval: `Rule "${rule.id}" requires approval`,
    transform: `Transformed by rule "${rule.id}": ${rule.steps.map((s) => s.label).join('; ')}`,
    allow: `Allowed by rule "${rule.id}"`,
  };
  return { rule: rule.id, effect: rule.effect, message: rule.message ?? fallback[rule.effect] };
}

/**
 * Decides one action against a compiled policy. Pure and synchronous: no I/O, and the given action is never mutated.
 * Combining is independent of rule order: deny > require_approval > transform > allow > default.
 * A rule that throws while being evaluated counts as a deny unless it could only allow.
 */
export function evaluatePolicy(policy: CompiledPolicy, action: Action): Decision {
  const started = performance.now();
  try {
    return decideWith(policy, action, started);
  } catch (error) {
    return {
      id: newDecisionId(),
      effect: 'deny',
      action,
      reasons: [{ effect: 'deny', code: 'internal_error', message: `The action could not be evaluated (${errorText(error)}), so it is denied` }],
      findings: [],
      policy: { name: policy.name, hash: policy.hash },
      elapsedUs: Math.round((performance.now() - started) * 1000),
    };
  }
}

function decideWith(policy: CompiledPolicy, action: Action, started: number): Decision {
  const finish = (effect: Effect, reasons: Reason[], finalAction: Action = action): Decision => ({
    id: newDecisionId(),
    effect,
    action: finalAction,
    reasons,
    findings: [],
    policy: { name: policy.name, hash: policy.hash },
    elapsedUs: Math.round((performance.now() - started) * 1000),
  });

  const invalid = checkAction(action);
  if (invalid.length > 0) {
    return finish('deny', [{ effect: 'deny', code: 'invalid_action', message: `Invalid action: ${invalid.join('; ')}` }]);
  }

  const denies: Reason[] = [];
  const approvals: CompiledRule[] = [];
  const transforms: CompiledRule[] = [];
  const allows: CompiledRule[] = [];
  for (const rule of candidateRules(policy, action.kind, action.name)) {
    let matched: boolean;
    try {
      matched = rule.condition ? rule.condition.test(action) : true;
    } catch (error) {
      if (rule.effect !== 'allow') {
        denies.push({ rule: rule.id, effect: 'deny', code: 'rule_error', message: `Rule "${rule.id}" could not be evaluated (${errorText(error)}), so it counts as a deny` });
      }
      continue;
    }
    if (!matched) continue;
    if (rule.effect === 'deny') denies.push(ruleReason(rule));
    else if (rule.effect === 'require_approval') approvals.push(rule);
    else if (rule.effect === 'transform') transforms.push(rule);
    else allows.push(rule);
  }

  if (denies.length > 0) return finish('deny', denies);

  let transformed = action;
  if (transforms.length > 0) {
    try {
      transformed = structuredClone(action);
      for (const rule of transforms) for (const step of rule.steps) step.apply(transformed);
    } catch (error) {
      return finish('deny', [{ effect: 'deny', code: 'transform_error', message: `A transform could not be applied (${errorText(error)}), so the action is denied` }]);
    }
  }
  if (approvals.length > 0) return finish('require_approval', [...approvals, ...transforms].map(ruleReason), transformed);
  if (transforms.length > 0) return finish('transform', transforms.map(ruleReason), transformed);
  if (allows.length > 0) return finish('allow', allows.map(ruleReason));
  return finish(policy.defaultEffect, [
    {
      effect: policy.defaultEffect,
      code: 'default',
      message: `No rule matched; the policy default is ${policy.defaultEffect}`,
    },
  ]);
}

/** One condition's result, for `policy simulate --explain`. */
export interface ConditionTrace {
  label: string;
  result: boolean | 'error';
  children?: ConditionTrace[];
}

export interface RuleTrace {
  id: string;
  effect: Effect;
  /** False when the kind/name index ruled the rule out without evaluating it. */
  candidate: boolean;
  matched: boolean | 'error';
  error?: string;
  conditions?: ConditionTrace;
}

function traceNode(node: CondNode, action: Action): ConditionTrace {
  let result: boolean | 'error';
  try {
    result = node.test(action);
  } catch {
    result = 'error';
  }
  return { label: node.label, result, children: node.children?.map((c) => traceNode(c, action)) };
}

/** Every rule's match result for an action, using the same compiled predicates as evaluatePolicy. */
export function explainPolicy(policy: CompiledPolicy, action: Action): RuleTrace[] {
  if (checkAction(action).length > 0) return [];
  const candidates = new Set(candidateRules(policy, action.kind, action.name));
  return policy.rules.map((rule) => {
    const candidate = candidates.has(rule);
    if (!rule.condition) return { id: rule.id, effect: rule.effect, candidate, matched: true };
    const conditions = traceNode(rule.condition, action);
    return { id: rule.id, effect: rule.effect, candidate, matched: candidate ? conditions.result : false, conditions };
  });
}
