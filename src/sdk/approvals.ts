import type { Action, Decision } from '../core/action.js';
import type { ApprovalRecord } from '../core/approvals/types.js';
import { AgentGuardDeniedError } from './errors.js';
import { pollUntil } from '../core/poll.js';

export interface ApprovalWaitOptions {
  /** Give up waiting after this long (default 15 minutes); the action then does not run. */
  timeoutMs?: number;
  /** How often to look again (default 500 ms). */
  pollMs?: number;
}

/** Approvals as a guard sees them: read one, wait for a person's answer, and spend an approval on one run. */
export interface GuardApprovals {
  get(id: string): Promise<ApprovalRecord | null>;
  /** Resolves once the approval is no longer pending (approved, denied, expired, cancelled), or at the bound with the pending record. */
  wait(id: string, options?: ApprovalWaitOptions): Promise<ApprovalRecord>;
  /** Marks an approved approval as used by a run of exactly this action; true once. */
  consume(id: string, action: Action): Promise<boolean>;
}

const DEFAULT_WAIT_MS = 15 * 60_000;

/** wait() on top of get(): polls until the record is no longer pending or the bound passes. */
export async function waitFor(get: (id: string) => Promise<ApprovalRecord | null>, id: string, options: ApprovalWaitOptions = {}): Promise<ApprovalRecord> {
  let last: ApprovalRecord | undefined;
  const outcome = await pollUntil(
    async () => {
      const record = await get(id);
      if (!record) throw new Error(`approval ${id} does not exist`);
      last = record;
      return record.status === 'pending' ? undefined : record;
    },
    { intervalMs: options.pollMs ?? 500, timeoutMs: options.timeoutMs ?? DEFAULT_WAIT_MS },
  );
  // At the bound: the pending record as last read.
  return outcome.status === 'done' ? outcome.value : last!;
}

/**
 * Waits for the person's answer to a require_approval decision and returns the decision it leads to: `allow` once
 * approved, with the approval spent on this one run (an approved action runs at most once; run it only on this
 * allow); `deny` when it was denied, expired or cancelled, when nobody decided within the wait, or when the approval
 * was already used or is for another action.
 */
export async function settleApproval(approvals: GuardApprovals, decision: Decision, options: ApprovalWaitOptions): Promise<Decision> {
  const id = decision.approval!.id;
  const record = await approvals.wait(id, options);
  const approval = { ...decision.approval!, status: record.status };
  const refuse = (code: string, message: string): Decision => ({ ...decision, effect: 'deny', approval, reasons: [...decision.reasons, { effect: 'deny', code, message }] });
  if (record.status === 'pending') return refuse('approval_wait_timeout', `No one decided approval ${id} while the agent waited, so the action did not run (it stays pending until ${record.expiresAt})`);
  const by = record.decidedBy ? ` by ${record.decidedBy}` : '';
  const comment = record.comment ? `: ${record.comment}` : '';
  if (record.status !== 'approved') return refuse(`approval_${record.status}`, `Approval ${id} was ${record.status}${by}${comment}, so the action did not run`);
  if (!(await approvals.consume(id, decision.action))) return refuse('approval_used', `Approval ${id} was already used, or is for another action, so this run is not authorised`);
  return { ...decision, effect: 'allow', approval, reasons: [...decision.reasons, { effect: 'allow', code: 'approval_approved', message: `Approval ${id} was approved${by}${comment}; this run used it` }] };
}

/** For protect() with waitForApproval: settleApproval, throwing AgentGuardDeniedError unless it ends in allow. */
export async function awaitApproval(approvals: GuardApprovals, decision: Decision, options: ApprovalWaitOptions): Promise<void> {
  const settled = await settleApproval(approvals, decision, options);
  if (settled.effect !== 'allow') throw new AgentGuardDeniedError(settled);
}
