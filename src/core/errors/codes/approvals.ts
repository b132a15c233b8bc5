import { defineErrors } from '../spec.js';

/** Errors of approvals of require_approval decisions. */
export const APPROVAL_ERRORS = defineErrors({
  APPROVAL_NOT_FOUND: {
    status: 404,
    exit: 1,
    meaning: 'No approval with that id is known (or it is not visible to this token).',
    fix: 'List the approvals with `agentguard approvals list` (or GET /v1/approvals); if the data lives elsewhere, pass --data-dir <folder>.',
  },
  APPROVAL_CLOSED: {
    status: 409,
    exit: 1,
    meaning: 'The approval was already approved, denied, expired or cancelled, so it can no longer be decided.',
    fix: 'Run the action again to ask for a new approval.',
  },
  APPROVER_NOT_LISTED: {
    status: 403,
    exit: 1,
    meaning: 'The person deciding is not among the approvers the rule lists.',
    fix: 'Ask one of the listed approvers, or an admin, to decide it.',
  },
  APPROVAL_BY_REQUIRED: {
    status: 400,
    exit: 2,
    meaning: 'An approval was decided without naming who decides.',
    fix: 'Pass --by NAME (CLI, default $USER) or send `by` in the body (an admin token).',
  },
  APPROVAL_NOT_REQUIRED: {
    status: 400,
    exit: 2,
    meaning: 'An approval was asked for a decision whose effect is not require_approval.',
    fix: 'Only ask approvals for require_approval decisions.',
  },
  APPROVAL_SPEC_INVALID: {
    status: 500,
    exit: 2,
    meaning: 'A rule\'s approval block cannot be used (approvers or timeout).',
    fix: 'Fix the rule\'s approval block as the message says and validate the policy.',
  },
  APPROVAL_NOT_USED: {
    status: 409,
    exit: 1,
    meaning: 'An outcome was reported for a decision whose approval was never granted and used, so its action cannot have run.',
    fix: 'Run the action only after its approval was granted and consumed, and report the outcome of that run.',
  },
  APPROVALS_NEED_AUDIT: {
    status: 500,
    exit: 2,
    meaning: 'Approvals were used with a guard created with `audit: false`; approvals live in the audit store.',
    fix: 'Create the guard with the audit trail on (the default) to use approvals.',
  },
  INVALID_DURATION: {
    status: 400,
    exit: 2,
    meaning: 'A duration (an approval timeout or wait) is not one agentguard can read.',
    fix: 'Write a whole number followed by s, m, h, d or w, or several of them: 30s, 15m, 2h, 1d, 1h30m.',
  },
  CALLBACK_INVALID: {
    status: 400,
    exit: 2,
    meaning: 'A signed approval webhook callback has a body that is not a valid decision.',
    fix: 'Send { "approvalId": "apr_…", "decision": "approve" | "deny", "by": "<name>", "comment"? }, signed with the channel secret.',
  },
  INTERACTION_INVALID: {
    status: 400,
    exit: 2,
    meaning: 'A Slack interaction payload is not an approve or deny click of an agentguard message.',
    fix: 'Point the Slack app\'s interactivity URL only at messages agentguard sent.',
  },
  SIGNATURE_INVALID: {
    status: 401,
    exit: 1,
    meaning: 'A Slack or webhook callback is unsigned, too old, or its signature does not match the channel\'s secret.',
    fix: 'Check that the channel\'s signing secret matches on both sides and that the clocks agree.',
  },
  NO_WEBHOOK_CHANNEL: {
    status: 404,
    exit: 2,
    meaning: 'A webhook callback arrived but no webhook channel is configured.',
    fix: 'Add one under "approvals": { "notify": [...] } in agentguard.config.json.',
  },
  NO_SLACK_CHANNEL: {
    status: 404,
    exit: 2,
    meaning: 'A Slack interaction arrived but no Slack channel is configured.',
    fix: 'Add one under "approvals": { "notify": [...] } in agentguard.config.json.',
  },
});
