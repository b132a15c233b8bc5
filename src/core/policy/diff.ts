import type { Effect } from '../action.js';
import { canonicalJson } from '../canonical-json.js';
import type { Policy } from './policy.js';
import type { RuleDocument } from './types.js';

/** The fields of a rule a diff compares, in the order it reports them. */
export const RULE_FIELDS = ['effect', 'when', 'transform', 'rate', 'approval', 'message', 'description'] as const;
export type RuleField = (typeof RULE_FIELDS)[number];

export interface RuleSummary {
  id: string;
  effect: Effect;
  /** Position among the policy's rules (after includes are resolved). */
  index: number;
}

export interface RuleChange {
  id: string;
  /** The fields that differ. */
  fields: RuleField[];
  from: Partial<Record<RuleField, unknown>>;
  to: Partial<Record<RuleField, unknown>>;
}

export interface PolicyDiff {
  old: { file: string; name: string; hash: string };
  new: { file: string; name: string; hash: string };
  /** Policy-wide settings that differ: default, name, guardrails. */
  settings: Array<{ field: 'default' | 'name' | 'guardrails'; from: unknown; to: unknown }>;
  added: RuleSummary[];
  removed: RuleSummary[];
  changed: RuleChange[];
  unchanged: number;
  /** True when the two decide alike for every action: no rule and no setting differs. */
  same: boolean;
}

/**
 * Rules added, removed and changed between two compiled policies, matched by id (after includes are resolved, so an
 * included pack's rules are compared under their prefixed ids). Values are compared as canonical JSON, so key order
 * and formatting do not count as changes; rule order does not either (combining does not depend on it), except for
 * transform steps, whose order is their meaning.
 */
export function diffPolicies(oldPolicy: Policy, newPolicy: Policy): PolicyDiff {
  const oldRules = new Map(oldPolicy.document.rules.map((r, index) => [r.id, { rule: r, index }]));
  const newRules = new Map(newPolicy.document.rules.map((r, index) => [r.id, { rule: r, index }]));
  const added: RuleSummary[] = [];
  const removed: RuleSummary[] = [];
  const changed: RuleChange[] = [];
  let unchanged = 0;
  for (const [id, { rule, index }] of newRules) if (!oldRules.has(id)) added.push({ id, effect: rule.effect, index });
  for (const [id, { rule, index }] of oldRules) {
    const next = newRules.get(id);
    if (!next) {
      removed.push({ id, effect: rule.effect, index });
      continue;
    }
    const fields = RULE_FIELDS.filter((f) => !same(rule[f], next.rule[f]));
    if (fields.length === 0) unchanged++;
    else changed.push({ id, fields, from: pick(rule, fields), to: pick(next.rule, fields) });
  }
  const settings: PolicyDiff['settings'] = [];
  const oldDefault = oldPolicy.document.default ?? 'deny';
  const newDefault = newPolicy.document.default ?? 'deny';
  if (oldDefault !== newDefault) settings.push({ field: 'default', from: oldDefault, to: newDefault });
  if (oldPolicy.name !== newPolicy.name) settings.push({ field: 'name', from: oldPolicy.name, to: newPolicy.name });
  if (!same(oldPolicy.document.guardrails, newPolicy.document.guardrails)) settings.push({ field: 'guardrails', from: oldPolicy.document.guardrails ?? {}, to: newPolicy.document.guardrails ?? {} });
  const describe = (p: Policy) => ({ file: p.filename, name: p.name, hash: p.hash });
  return {
    old: describe(oldPolicy),
    new: describe(newPolicy),
    settings,
    added,
    removed,
    changed,
    unchanged,
    same: added.length === 0 && removed.length === 0 && changed.length === 0 && settings.filter((s) => s.field !== 'name').length === 0,
  };
}

function same(a: unknown, b: unknown): boolean {
  if (a === undefined || b === undefined) return a === b;
  return canonicalJson(a) === canonicalJson(b);
}

function pick(rule: RuleDocument, fields: readonly RuleField[]): Partial<Record<RuleField, unknown>> {
  const out: Partial<Record<RuleField, unknown>> = {};
  for (const f of fields) if (rule[f] !== undefined) out[f] = rule[f];
  return out;
}
