import type { ApprovalRecord } from './types.js';

/**
 * Whether a person known by any of `identities` may decide `approval`: when its rule names nobody, anyone who may
 * decide approvals at all; otherwise only someone the rule lists in `approvers`, or in `escalateTo` once the approval
 * has been escalated. Names compare exactly (after trimming), so write them in the policy as the tokens and Slack
 * identities carry them.
 *
 * @example mayDecide({ ...record, approvers: ['alice'] }, ['alice']) // true
 */
export function mayDecide(approval: Pick<ApprovalRecord, 'approvers' | 'escalateTo' | 'escalatedAt'>, identities: readonly string[]): boolean {
  if (approval.approvers.length === 0 && (approval.escalatedAt === null || approval.escalateTo.length === 0)) return true;
  const listed = new Set(approval.approvers.map((name) => name.trim()));
  if (approval.escalatedAt !== null) for (const name of approval.escalateTo) listed.add(name.trim());
  return identities.some((identity) => listed.has(identity.trim()));
}
