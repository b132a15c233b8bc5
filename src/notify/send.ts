import { postOnce } from './http-post.js';
import { SIGNATURE_HEADER, signWebhook } from './signature.js';
import { slackMessage } from './slack-message.js';
import type { DeliveryRequest, DeliveryResult } from './types.js';
import { webhookBody } from './webhook-message.js';

export const DEFAULT_SEND_TIMEOUT_MS = 10_000;

/** Headers that come with every webhook delivery besides the signature. */
export const DELIVERY_HEADER = 'agentguard-delivery';
export const EVENT_HEADER = 'agentguard-event';
export const ATTEMPT_HEADER = 'agentguard-attempt';

export interface SendOptions {
  /** Give up waiting after this many ms (default 10,000); a timeout is retryable. */
  timeoutMs?: number;
  /** The fetch to use (tests, proxies); the global one by default. */
  fetch?: typeof fetch;
  /** Now, in Unix seconds: the signature timestamp and the base of a Retry-After date. */
  nowSec?: () => number;
}

function resolve(options: SendOptions, label: string): { timeoutMs: number; fetch: typeof fetch; nowSec: number } | DeliveryResult {
  const timeoutMs = options.timeoutMs ?? DEFAULT_SEND_TIMEOUT_MS;
  if (!Number.isSafeInteger(timeoutMs) || timeoutMs <= 0) {
    return { ok: false, retryable: false, error: `${label}: timeoutMs must be a whole number of milliseconds above 0` };
  }
  const nowSec = options.nowSec ? options.nowSec() : Math.floor(Date.now() / 1000);
  return { timeoutMs, fetch: options.fetch ?? globalThis.fetch, nowSec };
}

/**
 * Sends one delivery, once: a webhook channel gets the JSON of webhookBody, signed (`agentguard-signature`), with the
 * delivery id, event and attempt in headers; a Slack channel gets slackMessage posted to its incoming webhook. 2xx is
 * success; 408, 429, 5xx, network errors and timeouts are retryable; other answers are not. Never throws, and its
 * error texts name the channel and the status or cause, never the URL or a secret. Retrying is the caller's job.
 *
 * @example
 * const result = await sendDelivery({ id: 'dlv_…', channel, change: { event: 'requested', approval }, attempt: 1 });
 * if (!result.ok && result.retryable) scheduleRetry(result.retryAfterMs);
 */
export async function sendDelivery(req: DeliveryRequest, options: SendOptions = {}): Promise<DeliveryResult> {
  const { channel } = req;
  const label = `${channel.type} channel "${channel.name}"`;
  try {
    const resolved = resolve(options, label);
    if ('ok' in resolved) return resolved;
    const post = { label, timeoutMs: resolved.timeoutMs, fetch: resolved.fetch, nowMs: resolved.nowSec * 1000 };

    if (channel.type === 'webhook') {
      if (!channel.secret) return { ok: false, retryable: false, error: `${label}: no secret is set; deliveries are only sent signed` };
      const body = JSON.stringify(webhookBody(req.change, req.id));
      return await postOnce(channel.url, body, {
        'content-type': 'application/json',
        [SIGNATURE_HEADER]: signWebhook(channel.secret, body, resolved.nowSec),
        [DELIVERY_HEADER]: req.id,
        [EVENT_HEADER]: req.change.event,
        [ATTEMPT_HEADER]: String(req.attempt),
      }, post);
    }
    if (channel.type === 'slack') {
      return await postOnce(channel.webhookUrl, JSON.stringify(slackMessage(req.change)), { 'content-type': 'application/json' }, { ...post, readErrorCode: true });
    }
    return { ok: false, retryable: false, error: `channel "${(channel as { name?: unknown }).name}": unknown channel type` };
  } catch {
    // Building the message failed (a malformed approval record): sending it again would fail the same way.
    return { ok: false, retryable: false, error: `${label}: the message could not be built from the approval record` };
  }
}

/**
 * Posts a message to a Slack interaction's `response_url`, e.g. slackDecisionUpdate to replace the message whose button
 * was clicked. Same result and error discipline as sendDelivery (the URL holds a token and is never shown).
 *
 * @example await postSlackResponse(interaction.responseUrl, slackDecisionUpdate(approval))
 */
export async function postSlackResponse(responseUrl: string, message: object, options: SendOptions = {}): Promise<DeliveryResult> {
  const label = 'Slack response_url';
  try {
    const resolved = resolve(options, label);
    if ('ok' in resolved) return resolved;
    return await postOnce(responseUrl, JSON.stringify(message), { 'content-type': 'application/json' }, {
      label,
      timeoutMs: resolved.timeoutMs,
      fetch: resolved.fetch,
      nowMs: resolved.nowSec * 1000,
      readErrorCode: true,
    });
  } catch {
    return { ok: false, retryable: false, error: `${label}: the message could not be serialised` };
  }
}
