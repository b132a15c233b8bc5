import { randomFillSync } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { checkAction, type Action, type Decision, type Effect, type Reason } from '../action.js';
import { GUARDRAIL_TIMEOUT, isGuardrailTimeout } from '../guardrails/budget.js';
import { Detections, type DetectionsOptions } from '../guardrails/detections.js';
import type { CondNode } from './conditions.js';
import { candidateRules, indexedRules, type CompiledPolicy, type CompiledRule } from './compile.js';
import type { EvalContext } from './eval-context.js';
import { withDeniedAuditView } from './audit-view.js';
import { noteRateRules } from './rate.js';
import { readsClock } from './time-window.js';

/**
 * A fresh context for one decision, or undefined when nothing would read it: the policy uses no guardrail, and no
 * decision time is given or no rule reads the clock (`time` conditions then read the clock themselves).
 */
export function newEvalContext(policy: CompiledPolicy, redaction: EvalContext['redaction'] = {}, detections: DetectionsOptions = {}, now?: Date): EvalContext | undefined {
  if (policy.guardrails.size === 0 && (now === undefined || !readsClock(policy))) return undefined;
  return { detections: new Detections(policy.guardrails, detections), redaction, ...(now !== undefined ? { now } : {}) };
}

/** Why a rule (or a transform) that needed guardrails which ran out of budget counts as a deny, whatever its effect. */
function timeoutReason(error: Error, rule: CompiledRule): Reason {
  return {
    rule: rule.id,
    effect: 'deny',
    code: GUARDRAIL_TIMEOUT,
    message: `Rule "${rule.id}" could not be evaluated because ${error.message}, so the action is denied`,
  };
}

// Random bytes for decision ids, refilled 256 ids at a time: hex-encoding a slice of it costs a quarter of
// `randomUUID().replace(/-/g, '')`, which was a fifth of a whole decision against a small policy.
const ID_POOL = Buffer.allocUnsafe(16 * 256);
let idOffset = ID_POOL.length;

/** `dec_` and a random (version 4) UUID without its dashes, e.g. `dec_3f2b8c1e9a0d4c7e8b5f6a1d2c3e4f50`. */
export function newDecisionId(): string {
  if (idOffset === ID_POOL.length) {
    randomFillSync(ID_POOL);
    idOffset = 0;
  }
  const at = idOffset;
  idOffset += 16;
  ID_POOL[at + 6] = (ID_POOL[at + 6] & 0x0f) | 0x40; // version 4
  ID_POOL[at + 8] = (ID_POOL[at + 8] & 0x3f) | 0x80; // RFC 4122 variant
  return `dec_${ID_POOL.toString('hex', at, at + 16)}`;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function defaultMessage(rule: CompiledRule): string {
  switch (rule.effect) {
    case 'deny':
      return `Denied by rule "${rule.id}"`;
    case 'require_approval':
      return `Rule "${rule.id}" requires approval`;
    case 'transform':
      return `Transformed by rule "${rule.id}": ${rule.steps.map((s) => s.label).join('; ')}`;
    case 'allow':
      return `Allowed by rule "${rule.id}"`;
  }
}

function ruleReason(rule: CompiledRule): Reason {
  return { rule: rule.id, effect: rule.effect, message: rule.message ?? defaultMessage(rule) };
}

function finish(policy: CompiledPolicy, started: number, effect: Effect, reasons: Reason[], action: Action, ctx?: EvalContext): Decision {
  return {
    id: newDecisionId(),
    effect,
    action,
    reasons,
    findings: ctx ? ctx.detections.reported : [],
    policy: { name: policy.name, hash: policy.hash },
    elapsedUs: Math.round((performance.now() - started) * 1000),
  };
}

/**
 * Decides one action against a compiled policy. Pure and synchronous: no I/O, and the given action is never mutated.
 * Combining is independent of rule order: deny > require_approval > transform > allow > default.
 * A rule that throws while being evaluated counts as a deny unless it could only allow.
 */
export function evaluatePolicy(policy: CompiledPolicy, action: Action, ctx: EvalContext | undefined = newEvalContext(policy)): Decision {
  const started = performance.now();
  try {
    return decideWith(policy, action, started, ctx);
  } catch (error) {
    const reason: Reason = { effect: 'deny', code: 'internal_error', message: `The action could not be evaluated (${errorText(error)}), so it is denied` };
    return finish(policy, started, 'deny', [reason], action, ctx);
  }
}

function decideWith(policy: CompiledPolicy, action: Action, started: number, ctx: EvalContext | undefined): Decision {
  const invalid = checkAction(action);
  if (invalid.length > 0) {
    return finish(policy, started, 'deny', [{ effect: 'deny', code: 'invalid_action', message: `Invalid action: ${invalid.join('; ')}` }], action, ctx);
  }

  const denies: Reason[] = [];
  const approvals: CompiledRule[] = [];
  const transforms: CompiledRule[] = [];
  const allows: CompiledRule[] = [];
  for (const rule of candidateRules(policy, action.kind, action.name)) {
    let matched: boolean;
    try {
      matched = rule.condition ? rule.condition.test(action, ctx) : true;
    } catch (error) {
      if (isGuardrailTimeout(error)) denies.push(timeoutReason(error, rule));
      else if (rule.effect !== 'allow') {
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

  if (denies.length > 0) return withDeniedAuditView(finish(policy, started, 'deny', denies, action, ctx), transforms, action, ctx);

  let transformed = action;
  if (transforms.length > 0) {
    try {
      transformed = structuredClone(action);
      for (const rule of transforms) {
        try {
          for (const step of rule.steps) step.apply(transformed, ctx);
        } catch (error) {
          if (isGuardrailTimeout(error)) return finish(policy, started, 'deny', [timeoutReason(error, rule)], action, ctx);
          throw error;
        }
      }
    } catch (error) {
      const reason: Reason = { effect: 'deny', code: 'transform_error', message: `A transform could not be applied (${errorText(error)}), so the action is denied` };
      return finish(policy, started, 'deny', [reason], action, ctx);
    }
  }
  if (approvals.length > 0) return finish(policy, started, 'require_approval', [...approvals, ...transforms].map(ruleReason), transformed, ctx);
  if (transforms.length > 0) return noteRateRules(finish(policy, started, 'transform', transforms.map(ruleReason), transformed, ctx), [...transforms, ...allows]);
  if (allows.length > 0) return noteRateRules(finish(policy, started, 'allow', allows.map(ruleReason), action, ctx), allows);
  const fallback: Reason = { effect: policy.defaultEffect, code: 'default', message: `No rule matched; the policy default is ${policy.defaultEffect}` };
  return finish(policy, started, policy.defaultEffect, [fallback], action, ctx);
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
  /** The rule's rate limit (e.g. `10 per 1m (sliding) by agent.id, name`): a matching allowed action takes a slot. */
  rate?: string;
  /** Where an included rule is written, e.g. `policies/readonly-db/policy.yaml:31 (agentguard:readonly-db@1.0.0)`. */
  origin?: string;
}

function traceNode(node: CondNode, action: Action, ctx: EvalContext | undefined): ConditionTrace {
  let result: boolean | 'error';
  try {
    result = node.test(action, ctx);
  } catch {
    result = 'error';
  }
  return { label: node.label, result, children: node.children?.map((c) => traceNode(c, action, ctx)) };
}

function originOf(policy: CompiledPolicy, index: number): { origin?: string } {
  const origin = policy.composition?.origins[index];
  if (!origin || origin.via.length === 0) return {};
  return { origin: `${origin.file}${origin.line !== undefined ? `:${origin.line}` : ''} (${origin.via.join(' → ')})` };
}

/** Every rule's match result for an action, using the same compiled predicates as evaluatePolicy. */
export function explainPolicy(policy: CompiledPolicy, action: Action, ctx: EvalContext | undefined = newEvalContext(policy)): RuleTrace[] {
  if (checkAction(action).length > 0) return [];
  const candidates = new Set(indexedRules(policy, action.kind, action.name));
  return policy.rules.map((rule) => {
    const candidate = candidates.has(rule);
    const rate = { ...(rule.rate ? { rate: rule.rate.label } : {}), ...originOf(policy, rule.index) };
    if (!rule.condition) return { id: rule.id, effect: rule.effect, candidate, matched: true, ...rate };
    const conditions = traceNode(rule.condition, action, ctx);
    return { id: rule.id, effect: rule.effect, candidate, matched: candidate ? conditions.result : false, conditions, ...rate };
  });
}
