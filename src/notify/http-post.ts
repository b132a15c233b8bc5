import type { DeliveryResult } from './types.js';

export interface PostOptions {
  /** Names the destination in errors, e.g. `webhook "ops"`; never the URL, which may hold a token. */
  label: string;
  timeoutMs: number;
  fetch: typeof fetch;
  /** Now, in ms since the epoch: for Retry-After given as a date. */
  nowMs: number;
  /** Add a receiver's short error code (Slack answers `invalid_payload`, `no_service`, …) to the error text. */
  readErrorCode?: boolean;
}

/** Slack's error answers are short snake_case words; anything else from a receiver is not repeated in our errors. */
const ERROR_CODE = /^[a-z_]{1,48}$/;
/** Node's network error codes (ECONNREFUSED, ENOTFOUND, UND_ERR_SOCKET…): safe to show, unlike their messages, which name the host. */
const NETWORK_CODE = /^[A-Z][A-Z0-9_]{1,40}$/;

/**
 * The wait a `Retry-After` value asks for, in ms: delay-seconds or an HTTP date (RFC 9110 §10.2.3); undefined when
 * absent or unreadable. A date in the past means 0.
 */
export function parseRetryAfter(value: string | null, nowMs: number): number | undefined {
  if (value === null) return undefined;
  const text = value.trim();
  if (/^[0-9]+$/.test(text)) return Number(text) * 1000;
  if (!/[a-z]/i.test(text)) return undefined;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}

/** Whether sending again may help: timeouts, rate limits and server errors may pass later; other refusals will not. */
export function isRetryableStatus(status: number): boolean {
  if (status === 408 || status === 429) return true;
  if (status >= 400 && status < 500) return false;
  return status >= 500 || status < 200;
}

/** Reads at most `max` bytes of a body, then lets go of the rest. */
async function readStart(response: Response, max: number): Promise<string> {
  if (response.body === null) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < max) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  return Buffer.concat(chunks).subarray(0, max).toString('utf8');
}

async function discard(response: Response): Promise<void> {
  await response.body?.cancel().catch(() => undefined);
}

function isHttpUrl(url: string): boolean {
  try {
    const { protocol } = new URL(url);
    return protocol === 'https:' || protocol === 'http:';
  } catch {
    return false;
  }
}

/**
 * POSTs a body once and says how it went, never throwing. 2xx is success; redirects are not followed (a signed body
 * should reach the configured receiver only). Error texts name `options.label` and the status or the network error
 * code, never the URL or anything the receiver answered beyond a short error code.
 */
export async function postOnce(url: string, body: string, headers: Record<string, string>, options: PostOptions): Promise<DeliveryResult> {
  const { label, timeoutMs } = options;
  if (!isHttpUrl(url)) return { ok: false, retryable: false, error: `${label}: the URL is not a valid http(s) URL; fix it in the channel configuration` };

  let response: Response;
  try {
    response = await options.fetch(url, { method: 'POST', headers, body, redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) });
  } catch (error) {
    return { ok: false, retryable: true, error: `${label}: ${networkFailure(error, timeoutMs)}` };
  }

  const { status } = response;
  if (status >= 200 && status < 300) {
    await discard(response);
    return { ok: true, status, retryable: false };
  }

  let detail = '';
  if (options.readErrorCode) {
    const code = (await readStart(response, 64).catch(() => '')).trim();
    if (ERROR_CODE.test(code)) detail = ` (${code})`;
  } else {
    await discard(response);
  }
  const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'), options.nowMs);
  const result: DeliveryResult = { ok: false, status, retryable: isRetryableStatus(status), error: `${label}: the receiver answered ${status}${detail}${hint(status)}` };
  if (retryAfterMs !== undefined) result.retryAfterMs = retryAfterMs;
  return result;
}

function hint(status: number): string {
  if (status >= 300 && status < 400) return '; redirects are not followed, set the final URL in the channel configuration';
  if (status === 401 || status === 403) return '; check the channel secret or token';
  if (status === 404 || status === 410) return '; check the channel URL, the receiver may have been removed';
  return '';
}

function networkFailure(error: unknown, timeoutMs: number): string {
  const name = (error as { name?: unknown } | null)?.name;
  if (name === 'TimeoutError' || name === 'AbortError') return `no answer within ${timeoutMs} ms`;
  const code = networkCode(error);
  return code === undefined ? 'the request failed before an answer came back' : `could not reach the receiver (${code})`;
}

/** The error code of a network failure, from the error or its causes (fetch wraps them: TypeError → cause → code). */
function networkCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current !== null && typeof current === 'object'; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && NETWORK_CODE.test(code)) return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}
