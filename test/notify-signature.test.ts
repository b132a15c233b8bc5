import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SIGNATURE_HEADER, signWebhook, verifySlackSignature, verifyWebhookSignature } from '../src/notify/index.js';

const SECRET = 'whsec_test_5b1f0c9e';
const NOW = 1_772_366_400; // 2026-03-01T12:00:00Z
const BODY = JSON.stringify({ type: 'agentguard.approval', event: 'requested', approval: { id: 'apr_1' } });

/** HMAC-SHA256 hex computed here, independently of the module under test. */
const hmac = (key: string, data: string | Buffer): string => createHmac('sha256', key).update(data).digest('hex');

describe('signWebhook / verifyWebhookSignature', () => {
  it('signs t=<seconds>,v1=<hex HMAC of "t.body"> under the agentguard-signature header', () => {
    expect(SIGNATURE_HEADER).toBe('agentguard-signature');
    expect(signWebhook(SECRET, BODY, NOW)).toBe(`t=${NOW},v1=${hmac(SECRET, `${NOW}.${BODY}`)}`);
  });

  it('accepts its own signature and returns the signed timestamp', () => {
    const header = signWebhook(SECRET, BODY, NOW);
    expect(verifyWebhookSignature({ secret: SECRET, header, body: BODY, nowSec: NOW })).toEqual({ ok: true, timestampSec: NOW });
    expect(verifyWebhookSignature({ secret: SECRET, header, body: Buffer.from(BODY), nowSec: NOW + 10 })).toEqual({ ok: true, timestampSec: NOW });
  });

  it('round-trips any body, Unicode included', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 200 }), fc.integer({ min: 0, max: 300 }), (body, skew) => {
        const header = signWebhook(SECRET, body, NOW);
        expect(verifyWebhookSignature({ secret: SECRET, header, body, nowSec: NOW + skew }).ok).toBe(true);
      }),
    );
  });

  it('rejects any single-byte change of the body', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 200 }), fc.nat(), fc.integer({ min: 1, max: 255 }), (body, at, delta) => {
        const header = signWebhook(SECRET, body, NOW);
        const bytes = Buffer.from(body, 'utf8');
        const i = at % bytes.length;
        bytes[i] = (bytes[i] + delta) % 256;
        expect(verifyWebhookSignature({ secret: SECRET, header, body: bytes, nowSec: NOW })).toEqual({ ok: false, reason: 'mismatch' });
      }),
    );
  });

  it('rejects a tampered timestamp, another secret and an empty secret as mismatch', () => {
    const header = signWebhook(SECRET, BODY, NOW);
    const retimed = header.replace(`t=${NOW}`, `t=${NOW + 1}`);
    expect(verifyWebhookSignature({ secret: SECRET, header: retimed, body: BODY, nowSec: NOW })).toEqual({ ok: false, reason: 'mismatch' });
    expect(verifyWebhookSignature({ secret: 'another', header, body: BODY, nowSec: NOW })).toEqual({ ok: false, reason: 'mismatch' });
    expect(verifyWebhookSignature({ secret: '', header, body: BODY, nowSec: NOW })).toEqual({ ok: false, reason: 'mismatch' });
  });

  it('rejects a timestamp older than the tolerance as stale and one further ahead as future, both edges inclusive', () => {
    const header = signWebhook(SECRET, BODY, NOW);
    const check = (nowSec: number, toleranceSec?: number) => verifyWebhookSignature({ secret: SECRET, header, body: BODY, nowSec, toleranceSec });
    expect(check(NOW + 300).ok).toBe(true);
    expect(check(NOW + 301)).toEqual({ ok: false, reason: 'stale' });
    expect(check(NOW - 300).ok).toBe(true);
    expect(check(NOW - 301)).toEqual({ ok: false, reason: 'future' });
    expect(check(NOW + 61, 60)).toEqual({ ok: false, reason: 'stale' });
  });

  it('says missing for no header and malformed for headers it cannot read', () => {
    const v1 = hmac(SECRET, `${NOW}.${BODY}`);
    const verify = (header: string | string[] | undefined | null) => verifyWebhookSignature({ secret: SECRET, header, body: BODY, nowSec: NOW });
    expect(verify(undefined)).toEqual({ ok: false, reason: 'missing' });
    expect(verify(null)).toEqual({ ok: false, reason: 'missing' });
    expect(verify('')).toEqual({ ok: false, reason: 'missing' });
    for (const header of [
      'garbage',
      `v1=${v1}`, // no timestamp
      `t=${NOW}`, // no signature
      `t=${NOW}x,v1=${v1}`,
      `t=-5,v1=${v1}`,
      `t=${NOW},v1=${v1.slice(0, 63)}`,
      `t=${NOW},v1=${'z'.repeat(64)}`,
      `t=${NOW},t=${NOW},v1=${v1}`,
      `t=${NOW},,v1=${v1}`,
      [`t=${NOW},v1=${v1}`, `t=${NOW},v1=${v1}`],
    ]) {
      expect(verify(header), String(header)).toEqual({ ok: false, reason: 'malformed' });
    }
  });

  it('accepts any of several v1 entries (key rotation) and ignores other schemes', () => {
    const oldV1 = hmac('old-secret', `${NOW}.${BODY}`);
    const newV1 = hmac(SECRET, `${NOW}.${BODY}`);
    const header = `t=${NOW}, v0=deadbeef, v1=${oldV1}, v1=${newV1}`;
    expect(verifyWebhookSignature({ secret: SECRET, header, body: BODY, nowSec: NOW }).ok).toBe(true);
    expect(verifyWebhookSignature({ secret: 'old-secret', header, body: BODY, nowSec: NOW }).ok).toBe(true);
    expect(verifyWebhookSignature({ secret: 'third', header, body: BODY, nowSec: NOW })).toEqual({ ok: false, reason: 'mismatch' });
  });

  it('refuses to sign with an empty secret', () => {
    expect(() => signWebhook('', BODY, NOW)).toThrow(/secret is empty/);
  });
});

describe('verifySlackSignature', () => {
  // The example request from Slack's "Verifying requests from Slack" guide.
  const signingSecret = '8f742231b10e8888abcd99yyyzzz85a5';
  const timestamp = '1531420618';
  const rawBody =
    'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c';
  const documented = 'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503';
  const now = Number(timestamp) + 30;
  const verify = (overrides: Partial<Parameters<typeof verifySlackSignature>[0]> = {}) =>
    verifySlackSignature({ signingSecret, timestampHeader: timestamp, signatureHeader: documented, rawBody, nowSec: now, ...overrides });

  it('accepts the documented example, whose signature is HMAC-SHA256 of v0:<timestamp>:<body>', () => {
    expect(`v0=${hmac(signingSecret, `v0:${timestamp}:${rawBody}`)}`).toBe(documented);
    expect(verify()).toEqual({ ok: true, timestampSec: Number(timestamp) });
    expect(verify({ rawBody: Buffer.from(rawBody), signatureHeader: documented.toUpperCase().replace('V0=', 'v0=') }).ok).toBe(true);
  });

  it('rejects a changed body, timestamp or secret as mismatch', () => {
    expect(verify({ rawBody: rawBody.replace('roadrunner', 'coyote') })).toEqual({ ok: false, reason: 'mismatch' });
    expect(verify({ timestampHeader: String(Number(timestamp) + 1) })).toEqual({ ok: false, reason: 'mismatch' });
    expect(verify({ signingSecret: 'not-the-secret' })).toEqual({ ok: false, reason: 'mismatch' });
    expect(verify({ signingSecret: '' })).toEqual({ ok: false, reason: 'mismatch' });
  });

  it('rejects stale and future timestamps (replays) even with a good signature', () => {
    expect(verify({ nowSec: Number(timestamp) + 301 })).toEqual({ ok: false, reason: 'stale' });
    expect(verify({ nowSec: Number(timestamp) - 301 })).toEqual({ ok: false, reason: 'future' });
  });

  it('says missing or malformed for absent or unreadable headers', () => {
    expect(verify({ timestampHeader: undefined })).toEqual({ ok: false, reason: 'missing' });
    expect(verify({ signatureHeader: '' })).toEqual({ ok: false, reason: 'missing' });
    expect(verify({ timestampHeader: 'yesterday' })).toEqual({ ok: false, reason: 'malformed' });
    expect(verify({ signatureHeader: documented.replace('v0=', 'v1=') })).toEqual({ ok: false, reason: 'malformed' });
    expect(verify({ signatureHeader: documented.slice(0, -2) })).toEqual({ ok: false, reason: 'malformed' });
    expect(verify({ signatureHeader: [documented, documented] })).toEqual({ ok: false, reason: 'malformed' });
  });
});
