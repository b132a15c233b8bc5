import type { ApprovalRecord } from '../core/approvals/types.js';
import { escapeMrkdwn, oneLine } from './mrkdwn.js';
import type { NotifyChange } from './types.js';

/** The longest a single user-provided value may be inside a one-line summary. */
const FIELD_MAX = 200;

/** Who asked: the agent id, or a stand-in when the action named none. */
export function agentLabel(approval: ApprovalRecord): string {
  return approval.agentId ?? 'an unidentified agent';
}

/** What happened, in a few words: "requested", "approved by alice", "expired (a timeout is a deny)". */
export function eventPhrase(change: NotifyChange): string {
  const { approval, event } = change;
  const by = approval.decidedBy === null ? '' : ` by ${oneLine(approval.decidedBy, FIELD_MAX)}`;
  switch (event) {
    case 'requested':
      return 'approval requested';
    case 'escalated':
      return approval.escalateTo.length > 0 ? `approval escalated to ${oneLine(approval.escalateTo.join(', '), FIELD_MAX)}` : 'approval escalated';
    case 'approved':
      return `approved${by}`;
    case 'denied':
      return `denied${by}`;
    case 'cancelled':
      return `cancelled${by}`;
    case 'expired':
      return 'expired without a decision (a timeout is a deny)';
    case 'consumed':
      return 'approved action was run';
  }
}

/**
 * One human line for a change, safe to post to Slack or Teams as `text`: user-provided values are flattened to one
 * line, shortened, and mrkdwn-escaped so they cannot mention or link anyone.
 *
 * @example summaryLine({ event: 'requested', approval }) // 'agentguard: approval requested — pay-bot wants to run tool payments.transfer: Transfers over 1000 need a person (expires …; apr_…)'
 */
export function summaryLine(change: NotifyChange): string {
  const { approval, event } = change;
  const action = `${oneLine(approval.action.kind, FIELD_MAX)} ${oneLine(approval.action.name, FIELD_MAX)}`;
  const who = oneLine(agentLabel(approval), FIELD_MAX);
  const reason = approval.reason ? `: ${oneLine(approval.reason, FIELD_MAX)}` : '';
  const open = event === 'requested' || event === 'escalated';
  const line = open
    ? `agentguard: ${eventPhrase(change)} — ${who} wants to run ${action}${reason} (expires ${approval.expiresAt}; ${approval.id})`
    : `agentguard: ${eventPhrase(change)} — ${who}, ${action} (${approval.id})`;
  return escapeMrkdwn(line);
}
