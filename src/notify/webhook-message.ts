import { isApprovalId } from './approval-id.js';
import { summaryLine } from './summary.js';
import type { NotifyChange } from './types.js';

/**
 * The JSON body posted to a webhook channel for one approval change. Structured fields carry the values as stored (the
 * action input is already secret-masked); `text` is one human line, mrkdwn-escaped, so a receiver can forward it to
 * Slack or Teams as is. `deliveryId` is stable across retries: receivers should use it to drop duplicates.
 *
 * @example webhookBody({ event: 'requested', approval }, 'dlv_0f3a…') // { type: 'agentguard.approval', event: 'requested', … }
 */
export function webhookBody(change: NotifyChange, deliveryId: string): Record<string, unknown> {
  const a = change.approval;
  return {
    type: 'agentguard.approval',
    event: change.event,
    deliveryId,
    approval: {
      id: a.id,
      status: a.status,
      agentId: a.agentId,
      action: { kind: a.action.kind, name: a.action.name, input: a.action.input ?? null },
      reason: a.reason,
      rules: a.rules,
      requestedAt: a.requestedAt,
      expiresAt: a.expiresAt,
      approvers: a.approvers,
      escalateTo: a.escalateTo,
      decidedBy: a.decidedBy,
      decidedAt: a.decidedAt,
      comment: a.comment,
    },
    text: summaryLine(change),
  };
}

/** Where a webhook receiver sends a decision back to the sidecar. */
export const WEBHOOK_CALLBACK_PATH = '/v1/approvals/callback';

/** A decision a webhook receiver sends back, once its signature has been checked. */
export interface WebhookCallback {
  approvalId: string;
  decision: 'approve' | 'deny';
  /** Who decided, as the receiver knows them (recorded as `decidedBy`). */
  by: string;
  comment?: string;
}

const BY_MAX = 256;
const COMMENT_MAX = 2000;

/**
 * JSON Schema of the body of `POST /v1/approvals/callback`. A webhook receiver may decide an approval by posting
 * `{ "approvalId", "decision": "approve" | "deny", "by", "comment"? }` there, signed like the deliveries it receives:
 * header `agentguard-signature: t=<unix seconds>,v1=<hex HMAC-SHA256(channel secret, "<t>.<raw body>")>` with the same
 * channel secret. The route checks the signature (verifyWebhookSignature) on the raw body, then parseWebhookCallback.
 */
export const webhookCallbackBodySchema = {
  type: 'object',
  required: ['approvalId', 'decision', 'by'],
  additionalProperties: false,
  properties: {
    approvalId: { type: 'string', pattern: '^apr_[0-9a-f]{32}$' },
    decision: { type: 'string', enum: ['approve', 'deny'] },
    by: { type: 'string', minLength: 1, maxLength: BY_MAX },
    comment: { type: 'string', maxLength: COMMENT_MAX },
  },
} as const;

const FIELDS = new Set(Object.keys(webhookCallbackBodySchema.properties));

/**
 * Reads the parsed JSON body of a webhook callback, strictly: unknown fields, wrong types, an empty `by` or a malformed
 * approval id give `{ error }` naming the field and what it should be. Never throws.
 *
 * @example parseWebhookCallback({ approvalId: 'apr_…', decision: 'approve', by: 'alice' }) // { approvalId: 'apr_…', decision: 'approve', by: 'alice' }
 */
export function parseWebhookCallback(body: unknown): WebhookCallback | { error: string } {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    return { error: 'callback body: expected a JSON object { "approvalId", "decision", "by", "comment"? }' };
  }
  const record = body as Record<string, unknown>;
  const unknown = Object.keys(record).filter((k) => !FIELDS.has(k));
  if (unknown.length > 0) {
    return { error: `callback body: unknown field ${unknown.map((k) => JSON.stringify(k)).join(', ')}; allowed: approvalId, decision, by, comment` };
  }
  const { approvalId, decision, by, comment } = record;
  if (!isApprovalId(approvalId)) {
    return { error: `callback body: "approvalId" must be an approval id such as "apr_" followed by 32 hex digits, got ${describe(approvalId)}` };
  }
  if (decision !== 'approve' && decision !== 'deny') {
    return { error: `callback body: "decision" must be "approve" or "deny", got ${describe(decision)}` };
  }
  if (typeof by !== 'string' || by.trim() === '' || by.length > BY_MAX) {
    return { error: `callback body: "by" must name who decided (a non-empty string of at most ${BY_MAX} characters), got ${describe(by)}` };
  }
  if (comment !== undefined && (typeof comment !== 'string' || comment.length > COMMENT_MAX)) {
    return { error: `callback body: "comment" must be a string of at most ${COMMENT_MAX} characters, got ${describe(comment)}` };
  }
  return comment === undefined ? { approvalId, decision, by: by.trim() } : { approvalId, decision, by: by.trim(), comment };
}

/** A short description of a bad value for an error message: its type, and the value when it is short and not text. */
function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (typeof value === 'string') return value.length <= 40 ? JSON.stringify(value) : `a string of ${value.length} characters`;
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${String(value)}`;
}
