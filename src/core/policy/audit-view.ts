import type { Action, Decision } from '../action.js';
import type { CompiledRule } from './compile.js';
import type { EvalContext } from './eval-context.js';
import { parsePath, setPath } from './path.js';

/** The action as a denied decision is recorded, by decision (kept beside it, like the redaction vault). */
const views = new WeakMap<Decision, Action>();

/** Says what took the place of text whose redaction failed. */
const WITHHELD = '[withheld: the policy redacts this field, and redaction failed]';

/**
 * A denied action is recorded with the redactions of the policy's matching transform rules applied: deny wins over
 * transform, so the transforms were not applied to the decision, but what they redact (an answer's e-mail addresses,
 * say) must not reach the audit trail verbatim either. Only `redact` steps apply here (the others change what would
 * run, not what may be stored). When a redaction fails, the fields it covers are withheld whole.
 */
export function withDeniedAuditView(decision: Decision, transforms: readonly CompiledRule[], action: Action, ctx: EvalContext | undefined): Decision {
  const steps = transforms.flatMap((rule) => rule.steps.filter((_, i) => rule.source.transform?.[i] !== undefined && 'redact' in rule.source.transform[i]!).map((step, i) => ({ step, path: redactPath(rule, i) })));
  if (steps.length === 0) return decision;
  let view: Action;
  try {
    view = structuredClone(action);
    for (const { step } of steps) step.apply(view, ctx);
  } catch {
    view = structuredClone(action);
    for (const { path } of steps) {
      const parsed = path === undefined ? undefined : parsePath(path);
      if (parsed && typeof parsed !== 'string' && !parsed.hasWildcard) setPath(view as unknown as Record<string, unknown>, parsed.segments, WITHHELD);
      else return withheldWhole(decision, action);
    }
  }
  views.set(decision, view);
  return decision;
}

function redactPath(rule: CompiledRule, nth: number): string | undefined {
  const redacts = (rule.source.transform ?? []).filter((s) => 'redact' in s) as Array<{ redact: string }>;
  return redacts[nth]?.redact;
}

/** The input withheld whole, when the fields to redact cannot be named one by one. */
function withheldWhole(decision: Decision, action: Action): Decision {
  views.set(decision, { ...action, input: { withheld: WITHHELD } });
  return decision;
}

/** The decision as it is stored in the audit trail: with its action's redacted view when it has one. */
export function auditViewOf(decision: Decision): Decision {
  const view = views.get(decision);
  return view ? { ...decision, action: view } : decision;
}
