import type { Decision } from '../action.js';
import { parseDuration } from '../audit/filters.js';
import type { CompiledPolicy } from '../policy/compile.js';
import type { ApprovalSpec } from './types.js';

/** Without an `approval` block: fifteen minutes, any admin, deny on timeout. */
export const DEFAULT_APPROVAL_TIMEOUT_MS = 15 * 60_000;

function duration(text: string, where: string): number {
  const ms = parseDuration(text);
  if (ms === undefined || ms <= 0) throw new Error(`${where} "${text}" is not a duration such as 15m or 1h30m`);
  return ms;
}

/**
 * The approval a require_approval decision needs, from the `approval` blocks of the rules that required it: the
 * shortest timeout and escalation, every approver and escalation target.
 */
export function approvalSpecFor(policy: CompiledPolicy, decision: Decision): ApprovalSpec {
  const ids = new Set(decision.reasons.filter((r) => r.effect === 'require_approval' && r.rule).map((r) => r.rule!));
  const blocks = policy.rules.filter((r) => ids.has(r.id) && r.source.approval).map((r) => ({ id: r.id, block: r.source.approval! }));
  const timeouts = blocks.map(({ id, block }) => duration(block.timeout, `rule ${id}: approval.timeout`));
  const escalations = blocks.flatMap(({ id, block }) => (block.escalateAfter ? [duration(block.escalateAfter, `rule ${id}: approval.escalateAfter`)] : []));
  return {
    timeoutMs: timeouts.length > 0 ? Math.min(...timeouts) : DEFAULT_APPROVAL_TIMEOUT_MS,
    approvers: [...new Set(blocks.flatMap(({ block }) => block.approvers ?? []))],
    onTimeout: 'deny',
    ...(escalations.length > 0 ? { escalateAfterMs: Math.min(...escalations) } : {}),
    escalateTo: [...new Set(blocks.flatMap(({ block }) => block.escalateTo ?? []))],
  };
}
