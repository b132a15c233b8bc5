import { createHmac, timingSafeEqual } from 'node:crypto';

/** The header that carries the signature of a webhook delivery, and of a callback to the sidecar. */
export const SIGNATURE_HEADER = 'agentguard-signature';

/** The default window, in seconds, a signed timestamp may be away from now (either way) before it is refused. */
export const DEFAULT_TOLERANCE_SEC = 300;

export type SignatureCheck =
  | { ok: true; timestampSec: number }
  | { ok: false; reason: 'missing' | 'malformed' | 'stale' | 'future' | 'mismatch' };

const HEX_SHA256 = /^[0-9a-fA-F]{64}$/;
const TIMESTAMP = /^[0-9]{1,15}$/;

function hmacHex(secret: string, prefix: string, body: string | Uint8Array): string {
  return createHmac('sha256', secret).update(prefix).update(body).digest('hex');
}

/**
 * The value of the `agentguard-signature` header for a body: `t=<timestampSec>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`.
 * Signing the timestamp with the body lets a receiver refuse replays of an old delivery.
 *
 * @example signWebhook(secret, JSON.stringify(body), Math.floor(Date.now() / 1000)) // 't=1767268800,v1=5f0c…'
 */
export function signWebhook(secret: string, body: string, timestampSec: number): string {
  if (typeof secret !== 'string' || secret === '') throw new TypeError('signWebhook: the secret is empty; set the channel secret');
  if (!Number.isSafeInteger(timestampSec) || timestampSec < 0) throw new TypeError('signWebhook: timestampSec must be a whole number of seconds');
  return `t=${timestampSec},v1=${hmacHex(secret, `${timestampSec}.`, body)}`;
}

/** Compares two hex digests in constant time; false for anything that is not two 32-byte digests. */
function digestsEqual(expectedHex: string, givenHex: string): boolean {
  const expected = Buffer.from(expectedHex, 'hex');
  const given = Buffer.from(givenHex, 'hex');
  return expected.length === 32 && given.length === 32 && timingSafeEqual(expected, given);
}

function checkTime(timestampSec: number, nowSec: number, toleranceSec: number): SignatureCheck | undefined {
  if (!(Number.isFinite(toleranceSec) && toleranceSec >= 0)) throw new TypeError('toleranceSec must be a number of seconds, 0 or more');
  if (nowSec - timestampSec > toleranceSec) return { ok: false, reason: 'stale' };
  if (timestampSec - nowSec > toleranceSec) return { ok: false, reason: 'future' };
  return undefined;
}

const nowInSeconds = (): number => Math.floor(Date.now() / 1000);

/**
 * Checks an `agentguard-signature` header against the raw body. Accepts several `v1=` entries (a sender rotating keys
 * signs with both) and ignores entries of other schemes; refuses a timestamp more than `toleranceSec` in the past
 * (`stale`) or in the future (`future`). An empty secret never matches.
 *
 * @example
 * const check = verifyWebhookSignature({ secret, header: req.headers['agentguard-signature'], body: rawBody });
 * if (!check.ok) return reply.code(401).send({ error: `bad signature: ${check.reason}` });
 */
export function verifyWebhookSignature(options: {
  secret: string;
  header: string | string[] | undefined | null;
  body: string | Uint8Array;
  nowSec?: number;
  toleranceSec?: number;
}): SignatureCheck {
  const { secret, header, body, nowSec = nowInSeconds(), toleranceSec = DEFAULT_TOLERANCE_SEC } = options;
  if (header === undefined || header === null || header === '') return { ok: false, reason: 'missing' };
  // Two signature headers on one request is an attempt to confuse, not a rotation (rotation is two v1= in one header).
  if (typeof header !== 'string') return { ok: false, reason: 'malformed' };

  let timestamp: string | undefined;
  const signatures: string[] = [];
  for (const part of header.split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) return { ok: false, reason: 'malformed' };
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (key === 't') {
      if (timestamp !== undefined || !TIMESTAMP.test(value)) return { ok: false, reason: 'malformed' };
      timestamp = value;
    } else if (key === 'v1') {
      if (!HEX_SHA256.test(value)) return { ok: false, reason: 'malformed' };
      signatures.push(value);
    }
  }
  if (timestamp === undefined || signatures.length === 0) return { ok: false, reason: 'malformed' };

  const timestampSec = Number(timestamp);
  const late = checkTime(timestampSec, nowSec, toleranceSec);
  if (late) return late;

  if (typeof secret !== 'string' || secret === '') return { ok: false, reason: 'mismatch' };
  const expected = hmacHex(secret, `${timestamp}.`, body);
  // Compare with every entry, without stopping early, so timing says nothing about which one matched.
  let matched = false;
  for (const signature of signatures) matched = digestsEqual(expected, signature) || matched;
  return matched ? { ok: true, timestampSec } : { ok: false, reason: 'mismatch' };
}

/**
 * Checks a request from Slack (interactivity, slash commands) the way Slack documents it: HMAC-SHA256 with the app's
 * signing secret over `v0:<X-Slack-Request-Timestamp>:<raw body>`, compared with `X-Slack-Signature: v0=<hex>`; the
 * timestamp must be within `toleranceSec` of now. `rawBody` must be the bytes as received, before any parsing.
 *
 * @example
 * verifySlackSignature({ signingSecret, timestampHeader: h['x-slack-request-timestamp'], signatureHeader: h['x-slack-signature'], rawBody })
 */
export function verifySlackSignature(options: {
  signingSecret: string;
  timestampHeader: string | string[] | undefined | null;
  signatureHeader: string | string[] | undefined | null;
  rawBody: string | Uint8Array;
  nowSec?: number;
  toleranceSec?: number;
}): SignatureCheck {
  const { signingSecret, timestampHeader, signatureHeader, rawBody, nowSec = nowInSeconds(), toleranceSec = DEFAULT_TOLERANCE_SEC } = options;
  const absent = (h: unknown): boolean => h === undefined || h === null || h === '';
  if (absent(timestampHeader) || absent(signatureHeader)) return { ok: false, reason: 'missing' };
  if (typeof timestampHeader !== 'string' || typeof signatureHeader !== 'string') return { ok: false, reason: 'malformed' };
  const timestamp = timestampHeader.trim();
  const signature = signatureHeader.trim();
  if (!TIMESTAMP.test(timestamp) || !signature.startsWith('v0=') || !HEX_SHA256.test(signature.slice(3))) {
    return { ok: false, reason: 'malformed' };
  }

  const timestampSec = Number(timestamp);
  const late = checkTime(timestampSec, nowSec, toleranceSec);
  if (late) return late;

  if (typeof signingSecret !== 'string' || signingSecret === '') return { ok: false, reason: 'mismatch' };
  const expected = hmacHex(signingSecret, `v0:${timestamp}:`, rawBody);
  return digestsEqual(expected, signature.slice(3)) ? { ok: true, timestampSec } : { ok: false, reason: 'mismatch' };
}
