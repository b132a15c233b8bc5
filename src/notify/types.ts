import type { ApprovalChange, ApprovalRecord } from '../core/approvals/types.js';

/**
 * Where approval notifications go. The config parser produces these; secrets are already read from the environment,
 * so they must never be printed, logged or put in an error message.
 */
export interface WebhookChannel {
  type: 'webhook';
  name: string;
  url: string;
  /** HMAC key, already read from env. */
  secret: string;
  events: ApprovalChange['event'][];
}

export interface SlackChannel {
  type: 'slack';
  name: string;
  /** Slack incoming-webhook URL; it is itself a secret. */
  webhookUrl: string;
  signingSecret: string;
  events: ApprovalChange['event'][];
}

export type NotifyChannel = WebhookChannel | SlackChannel;

/** One delivery as the outbox hands it to send(): what to send, to whom. */
export interface DeliveryRequest {
  /** `dlv_...`, unique, stable across retries. */
  id: string;
  channel: NotifyChannel;
  change: { event: ApprovalChange['event']; approval: ApprovalRecord };
  /** 1-based. */
  attempt: number;
}

export interface DeliveryResult {
  ok: boolean;
  /** HTTP status when one came back. */
  status?: number;
  /** Short reason, never containing the URL or a secret. */
  error?: string;
  /** False for errors retrying cannot fix (4xx other than 408/429). */
  retryable: boolean;
  /** Ms the receiver asked us to wait (Retry-After), if any. */
  retryAfterMs?: number;
}

/** What changed, as a notification carries it. */
export type NotifyChange = DeliveryRequest['change'];
