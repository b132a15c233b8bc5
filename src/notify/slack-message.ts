import type { ApprovalChange, ApprovalRecord } from '../core/approvals/types.js';
import { escapeAndTruncate, escapeMrkdwn, oneLine } from './mrkdwn.js';
import { agentLabel, summaryLine } from './summary.js';
import type { NotifyChange } from './types.js';

/** `action_id`s of the two buttons; the interaction route maps them back to a decision. */
export const SLACK_APPROVE_ACTION_ID = 'agentguard_approve';
export const SLACK_DENY_ACTION_ID = 'agentguard_deny';

/** How much of the action input (compact JSON, after escaping) a message shows. */
export const SLACK_INPUT_MAX_CHARS = 1500;

/** A Slack message: `text` is the notification fallback, `blocks` the Block Kit layout. */
export interface SlackMessage {
  text: string;
  blocks: unknown[];
}

const OPEN_EVENTS: ReadonlySet<ApprovalChange['event']> = new Set(['requested', 'escalated']);

const TITLES: Record<ApprovalChange['event'], string> = {
  requested: ':raised_hand: Approval requested',
  escalated: ':rotating_light: Approval escalated',
  approved: ':white_check_mark: Approved',
  denied: ':no_entry: Denied',
  expired: ':hourglass: Expired: denied by timeout',
  cancelled: ':heavy_multiplication_x: Cancelled',
  consumed: ':arrow_forward: Approved action was run',
};

/** A Slack date token (shown in each reader's time zone) with the ISO time as fallback; plain escaped text if unparsable. */
function slackDate(iso: string): string {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return escapeMrkdwn(iso);
  return `<!date^${Math.floor(ms / 1000)}^{date_short_pretty} at {time}|${escapeMrkdwn(new Date(ms).toISOString())}>`;
}

/** A user-provided value for mrkdwn: one line, shortened, escaped. */
function field(text: string, max: number): string {
  return escapeAndTruncate(oneLine(text, max), max).text;
}

/** A user-provided value inside an inline code span. */
function code(text: string, max: number): string {
  return `\`${escapeAndTruncate(oneLine(text, max), max, { code: true }).text}\``;
}

function detailsSection(approval: ApprovalRecord, open: boolean): unknown {
  const lines = [
    `*Agent:* ${approval.agentId === null ? '_an unidentified agent_' : code(agentLabel(approval), 256)}`,
    `*Action:* ${field(approval.action.kind, 128)} ${code(approval.action.name, 300)}`,
  ];
  if (approval.reason) lines.push(`*Reason:* ${field(approval.reason, 500)}`);
  if (approval.rules.length > 0) lines.push(`*Rules:* ${field(approval.rules.join(', '), 300)}`);
  if (open && approval.approvers.length > 0) lines.push(`*Approvers:* ${field(approval.approvers.join(', '), 300)}`);
  if (open && approval.escalatedAt !== null && approval.escalateTo.length > 0) lines.push(`*Escalated to:* ${field(approval.escalateTo.join(', '), 300)}`);
  if (open) lines.push(`*Expires:* ${slackDate(approval.expiresAt)}`);
  return { type: 'section', text: { type: 'mrkdwn', text: lines.join('\n') } };
}

function inputSection(approval: ApprovalRecord): unknown {
  const json = JSON.stringify(approval.action.input ?? {}) ?? '{}';
  const shown = escapeAndTruncate(json, SLACK_INPUT_MAX_CHARS, { code: true });
  const note = shown.truncated ? `\n_Input truncated: ${json.length} characters in all._` : '';
  return { type: 'section', text: { type: 'mrkdwn', text: `*Input* (secrets masked):\n\`\`\`${shown.text}\`\`\`${note}` } };
}

function decisionButtons(approval: ApprovalRecord): unknown {
  return {
    type: 'actions',
    block_id: 'agentguard_decision',
    elements: [
      {
        type: 'button',
        action_id: SLACK_APPROVE_ACTION_ID,
        text: { type: 'plain_text', text: 'Approve', emoji: true },
        style: 'primary',
        value: approval.id,
      },
      {
        type: 'button',
        action_id: SLACK_DENY_ACTION_ID,
        text: { type: 'plain_text', text: 'Deny', emoji: true },
        style: 'danger',
        value: approval.id,
        confirm: {
          title: { type: 'plain_text', text: 'Deny this action?' },
          text: { type: 'plain_text', text: 'The agent will not be allowed to run it. A denial is final.' },
          confirm: { type: 'plain_text', text: 'Deny' },
          deny: { type: 'plain_text', text: 'Keep it open' },
          style: 'danger',
        },
      },
    ],
  };
}

/** Who decided and when, or when it ended, for a final event. */
function outcomeLine(change: NotifyChange): string {
  const { approval, event } = change;
  const by = approval.decidedBy === null ? '' : ` by *${field(approval.decidedBy, 256)}*`;
  const at = (iso: string | null): string => (iso === null ? '' : ` on ${slackDate(iso)}`);
  switch (event) {
    case 'approved':
      return `Approved${by}${at(approval.decidedAt)}`;
    case 'denied':
      return `Denied${by}${at(approval.decidedAt)}`;
    case 'cancelled':
      return `Cancelled${by}${at(approval.decidedAt)}`;
    case 'expired':
      return `Nobody decided before ${slackDate(approval.expiresAt)}; a timeout is a deny`;
    case 'consumed':
      return `Approved${by}${at(approval.decidedAt)}; run${at(approval.consumedAt)}`;
    default:
      return `Requested ${slackDate(approval.requestedAt)}`;
  }
}

function render(change: NotifyChange, withButtons: boolean): SlackMessage {
  const { approval, event } = change;
  const open = OPEN_EVENTS.has(event);
  const blocks: unknown[] = [
    { type: 'header', text: { type: 'plain_text', text: TITLES[event], emoji: true } },
    detailsSection(approval, open),
    inputSection(approval),
  ];
  if (open && withButtons) {
    blocks.push(decisionButtons(approval));
  } else if (!open) {
    const context = [{ type: 'mrkdwn', text: outcomeLine(change) }];
    if (approval.comment) context.push({ type: 'mrkdwn', text: `Comment: ${field(approval.comment, 500)}` });
    blocks.push({ type: 'context', elements: context });
  }
  blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: `agentguard approval \`${escapeMrkdwn(approval.id)}\`` }] });
  return { text: summaryLine(change), blocks };
}

/**
 * The Slack message for one approval change. `requested` and `escalated` carry Approve / Deny buttons whose value is
 * the approval id (Deny asks for confirmation); final events (approved, denied, expired, cancelled, consumed) carry who
 * decided and when instead. Every user- or agent-provided string is mrkdwn-escaped, so an action input holding
 * `<!channel>` or a link shows as text; the input is shown as compact JSON in a code block, cut at 1,500 characters.
 *
 * @example await fetch(channel.webhookUrl, { method: 'POST', body: JSON.stringify(slackMessage({ event: 'requested', approval })) })
 */
export function slackMessage(change: NotifyChange): SlackMessage {
  return render(change, true);
}

/** The event that describes an approval as it is now. */
function currentEvent(approval: ApprovalRecord): ApprovalChange['event'] {
  if (approval.consumedAt !== null) return 'consumed';
  if (approval.status === 'pending') return approval.escalatedAt === null ? 'requested' : 'escalated';
  return approval.status;
}

/**
 * The message that replaces the original one (through the interaction's `response_url`) once the approval is decided:
 * the approval as it is now, without buttons, so nobody clicks a decision that no longer applies.
 *
 * @example await postSlackResponse(interaction.responseUrl, slackDecisionUpdate(decided))
 */
export function slackDecisionUpdate(approval: ApprovalRecord): SlackMessage & { replace_original: true } {
  return { replace_original: true, ...render({ event: currentEvent(approval), approval }, false) };
}
