/**
 * Approval notifications: signing and checking signatures, the webhook and Slack messages, reading Slack button clicks
 * and webhook callbacks, and sending one delivery. Pure functions and single HTTP calls; the outbox that stores,
 * schedules and retries deliveries lives elsewhere and calls these.
 */
export type { DeliveryRequest, DeliveryResult, NotifyChange, NotifyChannel, SlackChannel, WebhookChannel } from './types.js';
export { APPROVAL_ID_PATTERN, isApprovalId } from './approval-id.js';
export { DEFAULT_TOLERANCE_SEC, SIGNATURE_HEADER, signWebhook, verifySlackSignature, verifyWebhookSignature, type SignatureCheck } from './signature.js';
export { parseWebhookCallback, WEBHOOK_CALLBACK_PATH, webhookBody, webhookCallbackBodySchema, type WebhookCallback } from './webhook-message.js';
export {
  SLACK_APPROVE_ACTION_ID,
  SLACK_DENY_ACTION_ID,
  SLACK_INPUT_MAX_CHARS,
  slackDecisionUpdate,
  slackMessage,
  type SlackMessage,
} from './slack-message.js';
export { parseSlackInteraction, type SlackInteraction } from './slack-interaction.js';
export { escapeMrkdwn } from './mrkdwn.js';
export { summaryLine } from './summary.js';
export { isRetryableStatus, parseRetryAfter } from './http-post.js';
export {
  ATTEMPT_HEADER,
  DEFAULT_SEND_TIMEOUT_MS,
  DELIVERY_HEADER,
  EVENT_HEADER,
  postSlackResponse,
  sendDelivery,
  type SendOptions,
} from './send.js';
