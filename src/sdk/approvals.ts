import type { Action, Decision } from '../core/action.js';
import type { ApprovalRecord } from '../core/approvals/types.js';
import { AgentGuardDeniedError } from './errors.js';

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
  const deadline = Date.now() + (options.timeoutMs ?? DEFAULT_WAIT_MS);
  const pollMs = options.pollMs ?? 500;
  for (;;) {
    const record = await get(id);
    if (!record) throw new Error(`approval ${id} does not exist`);
    if (record.status !== 'pending' || Date.now() >= deadline) return record;
    await new Promise((resolve) => setTimeout(resolve, Math.min(pollMs, Math.max(0, deadline - Date.now()))));
  }
}

/**
 * For protect() with waitForApproval: waits for the person's answer; an approval is spent on exactly this run (an
 * approved action runs at most once). Anything but a fresh approval of this action throws, and nothing runs.
 */
export async function awaitApproval(approvals: GuardApprovals, decision: Decision, options: ApprovalWaitOptions): Promise<void> {
  const id = decision.approval!.id;
  const record = await approvals.wait(id, options);
  const refuse = (code: string, message: string) => new AgentGuardDeniedError({ ...decision, effect: 'deny', reasons: [...decision.reasons, { effect: 'deny', code, message }] });
  if (record.status === 'pending') throw refuse('approval_wait_timeout', `No one decided approval ${id} while the agent waited, so the action did not run (it stays pending until ${record.expiresAt})`);
  if (record.status !== 'approved') {
    const by = record.decidedBy ? ` by ${record.decidedBy}` : '';
    throw refuse(`approval_${record.status}`, `Approval ${id} was ${record.status}${by}${record.comment ? `: ${record.comment}` : ''}, so the action did not run`);
  }
  if (!(await approvals.consume(id, decision.action))) throw refuse('approval_used', `Approval ${id} was already used, or is for another action, so this run is not authorised`);
}
