import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type DeliveryRequest,
  type DeliveryResult,
  parseRetryAfter,
  parseWebhookCallback,
  postSlackResponse,
  sendDelivery,
  SIGNATURE_HEADER,
  type SlackChannel,
  slackDecisionUpdate,
  slackMessage,
  verifyWebhookSignature,
  type WebhookChannel,
  webhookBody,
} from '../src/notify/index.js';
import { change } from './helpers/approval-fixtures.js';

const SECRET = 'whsec_live_9d2c41f0a7';
const NOW = 1_772_366_400;
const PATH_TOKEN = 'T0001/B0002/pathTokenXyZ';
const QUERY_TOKEN = 'queryTokenAbC';

interface Received {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A receiver on 127.0.0.1 that records each request and answers with `respond`. */
async function receiver(respond: (req: Received, res: ServerResponse) => void = (_r, res) => res.end('ok')) {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r = { method: req.method!, url: req.url!, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      received.push(r);
      respond(r, res);
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { received, base, url: `${base}/hooks/${PATH_TOKEN}?token=${QUERY_TOKEN}` };
}

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((resolve) => s.close(resolve));
  }
});

const webhook = (url: string, secret = SECRET): WebhookChannel => ({ type: 'webhook', name: 'ops-hook', url, secret, events: ['requested'] });
const slack = (webhookUrl: string): SlackChannel => ({ type: 'slack', name: 'team-slack', webhookUrl, signingSecret: 'slack-signing-secret-1', events: ['requested'] });
const delivery = (channel: WebhookChannel | SlackChannel, event: Parameters<typeof change>[0] = 'requested'): DeliveryRequest => ({
  id: 'dlv_5f2e9a',
  channel,
  change: change(event),
  attempt: 3,
});

/** An error text must name the channel and must not give away where it posts or with what key. */
function expectClean(result: DeliveryResult, name = 'ops-hook') {
  expect(result.error).toBeDefined();
  expect(result.error).toContain(name);
  for (const leak of [PATH_TOKEN, 'pathTokenXyZ', QUERY_TOKEN, '/hooks', '127.0.0.1', '://', 'ftp:', 'hooks.example', SECRET, 'slack-signing-secret-1']) {
    expect(result.error).not.toContain(leak);
  }
}

describe('sendDelivery to a webhook', () => {
  it('posts the signed JSON body with delivery, event and attempt headers, and the receiver can verify it', async () => {
    const hook = await receiver((r, res) => {
      const check = verifyWebhookSignature({ secret: SECRET, header: r.headers[SIGNATURE_HEADER], body: r.body, nowSec: NOW + 5 });
      res.statusCode = check.ok ? 204 : 401;
      res.end();
    });
    const req = delivery(webhook(hook.url));
    const result = await sendDelivery(req, { nowSec: () => NOW });
    expect(result).toEqual({ ok: true, status: 204, retryable: false });

    const [got] = hook.received;
    expect(got.method).toBe('POST');
    expect(got.url).toBe(`/hooks/${PATH_TOKEN}?token=${QUERY_TOKEN}`);
    expect(got.headers['content-type']).toBe('application/json');
    expect(got.headers['agentguard-delivery']).toBe('dlv_5f2e9a');
    expect(got.headers['agentguard-event']).toBe('requested');
    expect(got.headers['agentguard-attempt']).toBe('3');
    expect(got.headers[SIGNATURE_HEADER]).toMatch(new RegExp(`^t=${NOW},v1=[0-9a-f]{64}$`));
    expect(JSON.parse(got.body)).toEqual(webhookBody(req.change, 'dlv_5f2e9a'));
  });

  it('is refused by a receiver holding another secret', async () => {
    const hook = await receiver((r, res) => {
      const check = verifyWebhookSignature({ secret: 'rotated-away', header: r.headers[SIGNATURE_HEADER], body: r.body, nowSec: NOW });
      res.statusCode = check.ok ? 200 : 401;
      res.end();
    });
    const result = await sendDelivery(delivery(webhook(hook.url)), { nowSec: () => NOW });
    expect(result).toMatchObject({ ok: false, status: 401, retryable: false });
    expectClean(result);
  });

  it('classifies answers: 5xx, 408 and 429 retryable; other 4xx and redirects not; Retry-After in seconds or as a date', async () => {
    const answers: Record<string, [number, Record<string, string>]> = {
      '/500': [500, {}],
      '/503': [503, { 'retry-after': '120' }],
      '/429': [429, { 'retry-after': new Date((NOW + 30) * 1000).toUTCString() }],
      '/408': [408, {}],
      '/400': [400, {}],
      '/404': [404, {}],
      '/410': [410, {}],
      '/302': [302, { location: '/elsewhere' }],
    };
    const hook = await receiver((r, res) => {
      const [status, headers] = answers[r.url.split('?')[0]] ?? [200, {}];
      res.writeHead(status, headers).end(`you sent ${r.url}`);
    });
    const send = (path: string) => sendDelivery(delivery(webhook(`${hook.base}${path}?token=${QUERY_TOKEN}`)), { nowSec: () => NOW });

    expect(await send('/500')).toMatchObject({ ok: false, status: 500, retryable: true });
    expect(await send('/503')).toMatchObject({ ok: false, status: 503, retryable: true, retryAfterMs: 120_000 });
    expect(await send('/429')).toMatchObject({ ok: false, status: 429, retryable: true, retryAfterMs: 30_000 });
    expect(await send('/408')).toMatchObject({ ok: false, status: 408, retryable: true });
    expect(await send('/400')).toMatchObject({ ok: false, status: 400, retryable: false });
    expect(await send('/404')).toMatchObject({ ok: false, status: 404, retryable: false });
    expect(await send('/410')).toMatchObject({ ok: false, status: 410, retryable: false });
    const redirected = await send('/302');
    expect(redirected).toMatchObject({ ok: false, status: 302, retryable: false });
    expect(redirected.error).toMatch(/redirects are not followed/);
    expect(hook.received.map((r) => r.url.split('?')[0])).not.toContain('/elsewhere');

    for (const path of Object.keys(answers)) {
      const result = await send(path);
      expectClean(result);
      expect(result.error).toContain(String(result.status));
      expect(result.error).not.toContain('you sent');
    }
    expect((await send('/500')).retryAfterMs).toBeUndefined();
  });

  it('gives up after timeoutMs when the receiver never answers, as retryable', async () => {
    const hook = await receiver(() => undefined); // never answers
    const result = await sendDelivery(delivery(webhook(hook.url)), { timeoutMs: 300 });
    expect(result).toMatchObject({ ok: false, retryable: true });
    expect(result.status).toBeUndefined();
    expect(result.error).toMatch(/no answer within 300 ms/);
    expectClean(result);
    expect(hook.received).toHaveLength(1);
  });

  it('reports a refused connection as retryable with the error code only', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const result = await sendDelivery(delivery(webhook(`http://127.0.0.1:${port}/hooks/${PATH_TOKEN}?token=${QUERY_TOKEN}`)));
    expect(result).toMatchObject({ ok: false, retryable: true });
    expect(result.error).toMatch(/ECONNREFUSED/);
    expectClean(result);
    expect(result.error).not.toContain(String(port));
  });

  it('does not repeat what a failing fetch says (it may quote the URL)', async () => {
    const leaky = (async (url: string | URL | Request) => {
      throw new TypeError(`Failed to fetch ${String(url)} with ${SECRET}`);
    }) as typeof fetch;
    const result = await sendDelivery(delivery(webhook(`https://hooks.example/hooks/${PATH_TOKEN}?token=${QUERY_TOKEN}`)), { fetch: leaky });
    expect(result).toMatchObject({ ok: false, retryable: true });
    expectClean(result);
  });

  it('refuses to send without a secret, to an unusable URL, or with a bad timeout — not retryable, nothing leaked', async () => {
    const hook = await receiver();
    const noSecret = await sendDelivery(delivery(webhook(hook.url, '')));
    expect(noSecret).toMatchObject({ ok: false, retryable: false });
    expect(noSecret.error).toMatch(/no secret/);
    expectClean(noSecret);

    const badUrl = await sendDelivery(delivery(webhook(`ftp:/${PATH_TOKEN}?token=${QUERY_TOKEN}`)));
    expect(badUrl).toMatchObject({ ok: false, retryable: false });
    expect(badUrl.error).toMatch(/not a valid http\(s\) URL/);
    expectClean(badUrl);

    const badTimeout = await sendDelivery(delivery(webhook(hook.url)), { timeoutMs: 0 });
    expect(badTimeout).toMatchObject({ ok: false, retryable: false });
    expect(badTimeout.error).toMatch(/timeoutMs/);
    expect(hook.received).toHaveLength(0);
  });
});

describe('sendDelivery to Slack and postSlackResponse', () => {
  it('posts the Block Kit message to the incoming webhook', async () => {
    const hook = await receiver();
    const req = delivery(slack(hook.url), 'escalated');
    expect(await sendDelivery(req)).toEqual({ ok: true, status: 200, retryable: false });
    const [got] = hook.received;
    expect(got.headers['content-type']).toBe('application/json');
    expect(got.headers[SIGNATURE_HEADER]).toBeUndefined();
    expect(JSON.parse(got.body)).toEqual(slackMessage(req.change));
  });

  it('passes on Slack’s short error code but nothing else the receiver said', async () => {
    const hook = await receiver((r, res) => {
      if (r.url.startsWith('/gone')) res.writeHead(404).end('no_service');
      else res.writeHead(400).end(`invalid_payload at ${r.url}`);
    });
    const gone = await sendDelivery(delivery(slack(`${hook.base}/gone/${PATH_TOKEN}`)));
    expect(gone).toMatchObject({ ok: false, status: 404, retryable: false });
    expect(gone.error).toContain('(no_service)');
    expectClean(gone, 'team-slack');

    const echoed = await sendDelivery(delivery(slack(hook.url)));
    expect(echoed).toMatchObject({ ok: false, status: 400, retryable: false });
    expectClean(echoed, 'team-slack');
  });

  it('postSlackResponse posts the replacement message to response_url', async () => {
    const hook = await receiver((r, res) => res.writeHead(r.url.startsWith('/fail') ? 500 : 200).end('ok'));
    const message = slackDecisionUpdate(change('approved').approval);
    expect(await postSlackResponse(`${hook.base}/actions/${PATH_TOKEN}`, message)).toEqual({ ok: true, status: 200, retryable: false });
    expect(JSON.parse(hook.received[0].body)).toEqual(message);

    const failed = await postSlackResponse(`${hook.base}/fail/${PATH_TOKEN}`, message);
    expect(failed).toMatchObject({ ok: false, status: 500, retryable: true });
    expectClean(failed, 'response_url');
  });
});

describe('parseRetryAfter', () => {
  it('reads delay-seconds and HTTP dates, and ignores garbage', () => {
    const now = NOW * 1000;
    expect(parseRetryAfter('0', now)).toBe(0);
    expect(parseRetryAfter(' 17 ', now)).toBe(17_000);
    expect(parseRetryAfter(new Date(now + 90_000).toUTCString(), now)).toBe(90_000);
    expect(parseRetryAfter(new Date(now - 90_000).toUTCString(), now)).toBe(0);
    expect(parseRetryAfter(null, now)).toBeUndefined();
    expect(parseRetryAfter('-5', now)).toBeUndefined();
    expect(parseRetryAfter('1.5', now)).toBeUndefined();
    expect(parseRetryAfter('soon', now)).toBeUndefined();
  });
});

describe('webhookBody', () => {
  it('carries the approval fields, the delivery id and one escaped human line', () => {
    const c = change('approved', { reason: 'ping <!channel> & co\nsecond line' });
    const body = webhookBody(c, 'dlv_1');
    expect(body).toEqual({
      type: 'agentguard.approval',
      event: 'approved',
      deliveryId: 'dlv_1',
      approval: {
        id: c.approval.id,
        status: 'approved',
        agentId: 'pay-bot',
        action: { kind: 'tool', name: 'payments.transfer', input: { amount: 5000, to: 'acme', apiKey: '[REDACTED]' } },
        reason: 'ping <!channel> & co\nsecond line',
        rules: ['big-transfer'],
        requestedAt: '2026-03-01T12:00:00.000Z',
        expiresAt: '2026-03-01T12:15:00.000Z',
        approvers: ['finance'],
        escalateTo: [],
        decidedBy: 'alice',
        decidedAt: '2026-03-01T12:05:00.000Z',
        comment: 'ok for Q1',
      },
      text: `agentguard: approved by alice — pay-bot, tool payments.transfer (${c.approval.id})`,
    });
    const requested = webhookBody(change('requested', { reason: 'ping <!channel> & co\nsecond line' }), 'dlv_2').text as string;
    expect(requested).toContain('ping &lt;!channel&gt; &amp; co second line');
    expect(requested).not.toContain('\n');
  });
});

describe('parseWebhookCallback', () => {
  const ID = 'apr_0123456789abcdef0123456789abcdef';

  it('accepts a decision with or without a comment', () => {
    expect(parseWebhookCallback({ approvalId: ID, decision: 'approve', by: 'alice' })).toEqual({ approvalId: ID, decision: 'approve', by: 'alice' });
    expect(parseWebhookCallback({ approvalId: ID, decision: 'deny', by: ' bob ', comment: 'too big' })).toEqual({ approvalId: ID, decision: 'deny', by: 'bob', comment: 'too big' });
  });

  it('names the field that is wrong', () => {
    const cases: Array<[unknown, RegExp]> = [
      [null, /expected a JSON object/],
      [[ID], /expected a JSON object/],
      ['approve', /expected a JSON object/],
      [{ approvalId: ID, decision: 'approve', by: 'alice', admin: true }, /unknown field "admin"/],
      [{ decision: 'approve', by: 'alice' }, /"approvalId".*got nothing/],
      [{ approvalId: 'apr_123', decision: 'approve', by: 'alice' }, /"approvalId"/],
      [{ approvalId: ID, decision: 'yes', by: 'alice' }, /"decision" must be "approve" or "deny", got "yes"/],
      [{ approvalId: ID, decision: true, by: 'alice' }, /"decision".*got boolean true/],
      [{ approvalId: ID, decision: 'deny', by: '' }, /"by" must name who decided/],
      [{ approvalId: ID, decision: 'deny', by: '   ' }, /"by"/],
      [{ approvalId: ID, decision: 'deny', by: 7 }, /"by".*got number 7/],
      [{ approvalId: ID, decision: 'deny', by: 'x'.repeat(257) }, /"by".*a string of 257 characters/],
      [{ approvalId: ID, decision: 'deny', by: 'bob', comment: 5 }, /"comment" must be a string/],
      [{ approvalId: ID, decision: 'deny', by: 'bob', comment: null }, /"comment".*got null/],
    ];
    for (const [body, error] of cases) {
      const result = parseWebhookCallback(body);
      expect(result, JSON.stringify(body)).toHaveProperty('error');
      expect((result as { error: string }).error, JSON.stringify(body)).toMatch(error);
    }
  });
});
