import type { Decision, Effect } from '../core/action.js';
import type { ConditionTrace, RuleTrace } from '../core/policy/evaluate.js';
import { paint } from './style.js';

const EFFECT_LABEL: Record<Effect, string> = {
  allow: paint.green('ALLOW'),
  deny: paint.red('DENY'),
  transform: paint.cyan('TRANSFORM'),
  require_approval: paint.yellow('REQUIRE_APPROVAL'),
};

/** Human view of one decision: effect, the action, why, and the transformed action when there is one. */
export function renderDecision(decision: Decision, original?: unknown): string {
  const a = decision.action as Partial<Decision['action']> | null;
  const what = a && typeof a === 'object' ? `${a.kind ?? '?'} ${a.name ?? '?'}` : 'invalid action';
  const lines = [`${EFFECT_LABEL[decision.effect]}  ${what}`];
  for (const r of decision.reasons) {
    lines.push(`  ${paint.dim('·')} ${r.rule ? paint.bold(r.rule) : paint.dim(r.code ?? 'reason')}: ${r.message}`);
  }
  for (const f of decision.findings ?? []) {
    lines.push(`  ${paint.dim(`found ${f.guardrail}/${f.type} (score ${f.score}) at ${f.path ?? '?'} [${f.start}, ${f.end})`)}`);
  }
  if ((decision.effect === 'transform' || decision.effect === 'require_approval') && original !== undefined && JSON.stringify(original) !== JSON.stringify(decision.action)) {
    lines.push(`  ${paint.dim('action after transforms:')} ${JSON.stringify(decision.action)}`);
  }
  lines.push(paint.dim(`  policy ${decision.policy.name} (${decision.policy.hash.slice(0, 19)}…) · ${decision.elapsedUs} µs · ${decision.id}`));
  return lines.join('\n');
}

function renderTrace(trace: ConditionTrace, indent: string): string[] {
  const mark = trace.result === true ? paint.green('✓') : trace.result === 'error' ? paint.red('!') : paint.red('✗');
  const out = [`${indent}${mark} ${trace.label}`];
  for (const child of trace.children ?? []) out.push(...renderTrace(child, `${indent}  `));
  return out;
}

/** `--explain`: every rule with its match result and condition tree. */
export function renderExplanation(traces: RuleTrace[]): string {
  const lines = [paint.bold('Rules:')];
  for (const t of traces) {
    const status = !t.candidate
      ? paint.dim('skipped (kind/name do not match)')
      : t.matched === true
        ? paint.green('matched')
        : t.matched === 'error'
          ? paint.red('error (counts as deny unless the rule only allows)')
          : paint.dim('no match');
    lines.push(`  ${t.id} ${paint.dim(`(${t.effect})`)}: ${status}`);
    if (t.origin) lines.push(`      ${paint.dim(`from ${t.origin}`)}`);
    if (t.conditions && t.candidate) lines.push(...renderTrace(t.conditions, '      '));
    // Counted only when the decision is recorded: simulate without --record takes no slot.
    if (t.rate && t.candidate) lines.push(`      ${paint.dim(`rate limit: ${t.rate}`)}`);
  }
  return lines.join('\n');
}
