import { isApprovalId } from './approval-id.js';
import { SLACK_APPROVE_ACTION_ID, SLACK_DENY_ACTION_ID } from './slack-message.js';
import { isPlainObject } from '../core/plain-object.js';

/** A click on one of our Approve / Deny buttons, as Slack reported it. */
export interface SlackInteraction {
  approvalId: string;
  decision: 'approve' | 'deny';
  /** The Slack user who clicked: `id` (U…) and their user name. */
  user: { id: string; name: string };
  /** Where to post the replacement message, valid for a short time; absent when Slack sent none. */
  responseUrl?: string;
}

const DECISIONS: Record<string, 'approve' | 'deny'> = { [SLACK_APPROVE_ACTION_ID]: 'approve', [SLACK_DENY_ACTION_ID]: 'deny' };

const nonEmpty = (value: unknown): value is string => typeof value === 'string' && value.trim() !== '';

/**
 * Reads the body Slack posts to the interactivity URL when someone clicks Approve or Deny: form-encoded, with a
 * `payload` field holding JSON of type `block_actions`. Check the request's signature (verifySlackSignature) on this
 * same raw body first. Anything else — another payload type, another button, a value that is not an approval id,
 * broken JSON — gives `{ error }`; it never throws.
 *
 * @example parseSlackInteraction(rawBody) // { approvalId: 'apr_…', decision: 'deny', user: { id: 'U0123', name: 'alice' }, responseUrl: 'https://hooks.slack.com/actions/…' }
 */
export function parseSlackInteraction(rawBody: string): SlackInteraction | { error: string } {
  if (typeof rawBody !== 'string') return { error: 'Slack interaction: expected the raw form-encoded request body as text' };
  const payloadText = new URLSearchParams(rawBody).get('payload');
  if (payloadText === null) return { error: 'Slack interaction: the form body has no "payload" field' };
  let payload: unknown;
  try {
    payload = JSON.parse(payloadText);
  } catch {
    return { error: 'Slack interaction: "payload" is not valid JSON' };
  }
  if (!isPlainObject(payload)) return { error: 'Slack interaction: "payload" is not a JSON object' };
  if (payload.type !== 'block_actions') {
    return { error: `Slack interaction: payload type ${typeof payload.type === 'string' ? JSON.stringify(payload.type.slice(0, 40)) : 'missing'} is not handled; only "block_actions" is` };
  }

  const actions = payload.actions;
  if (!Array.isArray(actions) || actions.length === 0 || !isPlainObject(actions[0])) return { error: 'Slack interaction: "actions" is missing or empty' };
  const action = actions[0];
  const decision = typeof action.action_id === 'string' ? DECISIONS[action.action_id] : undefined;
  if (decision === undefined) {
    return { error: `Slack interaction: actions[0].action_id must be "${SLACK_APPROVE_ACTION_ID}" or "${SLACK_DENY_ACTION_ID}"` };
  }
  if (!isApprovalId(action.value)) return { error: 'Slack interaction: actions[0].value is not an approval id (apr_ followed by 32 hex digits)' };

  const user = payload.user;
  if (!isPlainObject(user) || !nonEmpty(user.id)) return { error: 'Slack interaction: "user.id" is missing' };
  const name = nonEmpty(user.username) ? user.username : user.name;
  if (!nonEmpty(name)) return { error: 'Slack interaction: the user has neither "username" nor "name"' };

  const result: SlackInteraction = { approvalId: action.value, decision, user: { id: user.id, name } };
  const responseUrl = payload.response_url;
  if (responseUrl !== undefined) {
    if (!isHttpUrl(responseUrl)) return { error: 'Slack interaction: "response_url" is not an http(s) URL' };
    result.responseUrl = responseUrl;
  }
  return result;
}

function isHttpUrl(value: unknown): value is string {
  if (typeof value !== 'string') return false;
  try {
    const url = new URL(value);
    return url.protocol === 'https:' || url.protocol === 'http:';
  } catch {
    return false;
  }
}
