import { createHmac } from 'node:crypto';
import { join } from 'node:path';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Approvals } from '../src/core/approvals/service.js';
import { AuditRecorder } from '../src/core/audit/recorder.js';
import { AgentGuardError } from '../src/core/errors.js';
import { decide } from '../src/core/pipeline.js';
import { Policy } from '../src/core/policy/policy.js';
import { SqliteStore } from '../src/core/store/sqlite/sqlite-store.js';
import { notifyChannels } from '../src/notify/config.js';
import { Deliverer, retryDelayMs } from '../src/notify/deliverer.js';
import { signWebhook, verifyWebhookSignature } from '../src/notify/signature.js';
import type { NotifyChannel, WebhookChannel } from '../src/notify/types.js';
import { buildSidecarApp, type Authenticate } from '../src/sidecar/app.js';
import { AgentGuard, ApprovalRequiredError } from '../src/sdk/index.js';
import { tempDataDir } from './helpers/audit-log.js';
import { makeTempDir } from './helpers/temp-dirs.js';

const policy = Policy.parse({
  version: 1,
  name: 'payments',
  default: 'allow',
  rules: [
    {
      id: 'big-transfer',
      effect: 'require_approval',
      when: { name: 'payments.transfer', 'input.amount': { gt: 1000 } },
      message: 'Transfers over 1000 need a person',
      approval: { timeout: '15m', approvers: ['finance', 'slack:alice'] },
    },
  ],
});
const transfer = (amount: number) => ({ agent: { id: 'pay-bot' }, kind: 'tool', name: 'payments.transfer', input: { amount, to: 'acme', apiKey: 'sk-live-0123456789abcdefghijklmnop' } });

interface Received {
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
}

/** A receiver that records every request and answers with the next status in `statuses` (then 200). */
async function receiver(statuses: number[] = []) {
  const received: Received[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      received.push({ path: req.url ?? '', headers: req.headers, body });
      const status = statuses.shift() ?? 200;
      res.writeHead(status, { 'content-type': 'text/plain' }).end(status < 300 ? 'ok' : 'no');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise((resolve) => server.close(resolve)));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, received };
}

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function openStore() {
  const store = SqliteStore.open(join(makeTempDir('ag-notify-'), 'agentguard.db'));
  cleanups.push(() => store.close());
  return store;
}

const SECRET = 'whsec-test-0123456789';

describe('notification channels in agentguard.config.json', () => {
  const env = { HOOK_SECRET: SECRET, SLACK_URL: 'https://hooks.slack.com/services/T0/B0/xyz', SLACK_SIGNING: 'slack-signing-secret' };

  it('reads webhook and Slack channels, with secrets from the environment and default events', () => {
    const channels = notifyChannels(
      { notify: [{ type: 'webhook', name: 'ops', url: 'https://hooks.example.com/a', secretEnv: 'HOOK_SECRET', events: ['requested', 'requested', 'expired'] }, { type: 'slack', webhookUrlEnv: 'SLACK_URL', signingSecretEnv: 'SLACK_SIGNING' }] },
      'cfg: approvals',
      env,
    );
    expect(channels).toEqual([
      { type: 'webhook', name: 'ops', url: 'https://hooks.example.com/a', secret: SECRET, events: ['requested', 'expired'] },
      { type: 'slack', name: 'slack', webhookUrl: env.SLACK_URL, signingSecret: 'slack-signing-secret', events: ['requested', 'escalated', 'approved', 'denied', 'expired', 'cancelled'] },
    ]);
    expect(notifyChannels(undefined, 'x', env)).toEqual([]);
  });

  it('refuses bad channels with the place and the fix, and never prints a secret', () => {
    const cases: Array<[unknown, string, string]> = [
      [{ notify: [{ type: 'email' }] }, 'cfg: approvals.notify[0].type is "email"', 'CONFIG_INVALID'],
      [{ notify: [{ type: 'webhook', url: 'http://hooks.example.com/a', secretEnv: 'HOOK_SECRET' }] }, 'cfg: approvals.notify[0].url must use https', 'CONFIG_INVALID'],
      [{ notify: [{ type: 'webhook', url: 'https://h.example/a', secretEnv: 'HOOK_SECRET', secret: SECRET }] }, 'unknown field "secret"', 'CONFIG_INVALID'],
      [{ notify: [{ type: 'webhook', url: 'https://h.example/a', secretEnv: 'NOT_SET' }] }, 'the environment variable NOT_SET is not set', 'NOTIFY_SECRET_MISSING'],
      [{ notify: [{ type: 'webhook', url: 'https://h.example/a', secretEnv: 'HOOK_SECRET', events: ['approve'] }] }, 'events is ["approve"]', 'CONFIG_INVALID'],
      [{ notify: [{ type: 'slack', webhookUrlEnv: 'HOOK_SECRET', signingSecretEnv: 'SLACK_SIGNING' }] }, 'is not a URL', 'CONFIG_INVALID'],
      [{ notify: [{ type: 'webhook', url: 'https://a.example/', secretEnv: 'HOOK_SECRET' }, { type: 'webhook', url: 'https://b.example/', secretEnv: 'HOOK_SECRET' }] }, 'repeats the name "webhook"', 'CONFIG_INVALID'],
      [{ webhooks: [] }, 'unknown field "webhooks"', 'CONFIG_INVALID'],
    ];
    for (const [section, message, code] of cases) {
      let error: unknown;
      try {
        notifyChannels(section, 'cfg: approvals', env);
      } catch (e) {
        error = e;
      }
      expect(error, message).toBeInstanceOf(AgentGuardError);
      expect((error as AgentGuardError).code).toBe(code);
      expect((error as AgentGuardError).message).toContain(message);
      expect((error as AgentGuardError).exitCode).toBe(2);
      expect(JSON.stringify({ m: (error as AgentGuardError).message, a: (error as AgentGuardError).actions })).not.toContain(SECRET);
    }
    // http is fine to this machine only.
    expect(notifyChannels({ notify: [{ type: 'webhook', url: 'http://127.0.0.1:9/x', secretEnv: 'HOOK_SECRET' }] }, 'c', env)).toHaveLength(1);
  });
});

describe('the outbox and the deliverer', () => {
  function clock(start = Date.parse('2026-03-01T12:00:00.000Z')) {
    let t = start;
    return { now: () => new Date(t), advance: (ms: number) => void (t += ms) };
  }

  it('queues one delivery per change and channel that asked for the event, secrets masked, and sends it signed', async () => {
    const store = openStore();
    const hook = await receiver();
    const channels: NotifyChannel[] = [
      { type: 'webhook', name: 'all', url: `${hook.url}/all`, secret: SECRET, events: ['requested', 'approved'] },
      { type: 'webhook', name: 'only-final', url: `${hook.url}/final`, secret: 'other-secret-000', events: ['approved'] },
    ];
    const approvals = new Approvals(store.approvals, store.audit, undefined, { deliveries: store.deliveries, channels });
    const pending = await approvals.request(await decide({ policy }, transfer(5000)), { timeoutMs: 60_000, approvers: [], onTimeout: 'deny', escalateTo: [] });
    await approvals.decide(pending.id, { status: 'approved', by: 'ana', comment: 'ok' });
    const queued = await store.deliveries.list({ approvalId: pending.id });
    expect(queued.map((d) => [d.channel, d.event, d.status]).sort()).toEqual([['all', 'approved', 'pending'], ['all', 'requested', 'pending'], ['only-final', 'approved', 'pending']]);
    expect(JSON.stringify(queued)).not.toContain('sk-live-0123456789');

    const outcomes: string[] = [];
    const deliverer = new Deliverer({ deliveries: store.deliveries, channels, onOutcome: (_d, o) => outcomes.push(o.status) });
    expect(await deliverer.runOnce()).toEqual({ delivered: 3, retrying: 0, failed: 0 });
    expect(outcomes).toEqual(['delivered', 'delivered', 'delivered']);
    expect(hook.received).toHaveLength(3);
    for (const request of hook.received) {
      const secret = request.path === '/all' ? SECRET : 'other-secret-000';
      expect(verifyWebhookSignature({ secret, header: request.headers['agentguard-signature'], body: request.body }).ok).toBe(true);
      expect(JSON.parse(request.body)).toMatchObject({ type: 'agentguard.approval', approval: { id: pending.id } });
      expect(request.body).not.toContain('sk-live-0123456789');
    }
    expect((await store.deliveries.list({ status: 'delivered' })).length).toBe(3);
    expect(await deliverer.runOnce()).toEqual({ delivered: 0, retrying: 0, failed: 0 });
  });

  it('retries a failing receiver with growing delays, then marks it failed and keeps it visible; retryFailed sends again', async () => {
    const store = openStore();
    const hook = await receiver([503, 500, 503]);
    const c = clock();
    const channels: NotifyChannel[] = [{ type: 'webhook', name: 'ops', url: hook.url, secret: SECRET, events: ['requested'] }];
    const approvals = new Approvals(store.approvals, store.audit, c.now, { deliveries: store.deliveries, channels });
    await approvals.request(await decide({ policy }, transfer(5000)), { timeoutMs: 3_600_000, approvers: [], onTimeout: 'deny', escalateTo: [] });
    const deliverer = new Deliverer({ deliveries: store.deliveries, channels, now: c.now, maxAttempts: 3 });

    expect(await deliverer.runOnce()).toEqual({ delivered: 0, retrying: 1, failed: 0 });
    let [row] = await store.deliveries.list();
    expect(row).toMatchObject({ status: 'pending', attempts: 1, lastStatus: 503 });
    expect(row!.lastError).toContain('"ops"');
    expect(row!.lastError).not.toContain('127.0.0.1');
    expect(Date.parse(row!.nextAttemptAt) - c.now().getTime()).toBe(retryDelayMs(1));
    // Not due yet: nothing is sent.
    expect(await deliverer.runOnce()).toEqual({ delivered: 0, retrying: 0, failed: 0 });
    c.advance(retryDelayMs(1));
    expect(await deliverer.runOnce()).toEqual({ delivered: 0, retrying: 1, failed: 0 });
    [row] = await store.deliveries.list();
    expect(Date.parse(row!.nextAttemptAt) - c.now().getTime()).toBe(retryDelayMs(2));
    expect(retryDelayMs(2)).toBeGreaterThan(retryDelayMs(1));
    c.advance(retryDelayMs(2));
    expect(await deliverer.runOnce()).toEqual({ delivered: 0, retrying: 0, failed: 1 });
    [row] = await store.deliveries.list({ status: 'failed' });
    expect(row).toMatchObject({ attempts: 3, lastStatus: 503 });
    expect(row!.lastError).toContain('gave up after 3 attempts');
    expect(hook.received).toHaveLength(3);
    // A person retries it by hand: the receiver is back.
    expect(await store.deliveries.retryFailed(c.now().toISOString())).toBe(1);
    expect(await deliverer.runOnce()).toEqual({ delivered: 1, retrying: 0, failed: 0 });
    // An answer retrying cannot fix fails at once.
    const bad = await receiver([400]);
    const badChannels: NotifyChannel[] = [{ type: 'webhook', name: 'ops', url: bad.url, secret: SECRET, events: ['requested'] }];
    const approvals2 = new Approvals(store.approvals, store.audit, c.now, { deliveries: store.deliveries, channels: badChannels });
    await approvals2.request(await decide({ policy }, transfer(6000)), { timeoutMs: 3_600_000, approvers: [], onTimeout: 'deny', escalateTo: [] });
    expect(await new Deliverer({ deliveries: store.deliveries, channels: badChannels, now: c.now }).runOnce()).toEqual({ delivered: 0, retrying: 0, failed: 1 });
  });

  it('two deliverers on two connections never send one delivery twice, and a process leaves channels it does not know', async () => {
    const store = openStore();
    const other = SqliteStore.open(store.location);
    cleanups.push(() => other.close());
    const hook = await receiver();
    const channels: WebhookChannel[] = [{ type: 'webhook', name: 'ops', url: hook.url, secret: SECRET, events: ['requested'] }];
    const approvals = new Approvals(store.approvals, store.audit, undefined, { deliveries: store.deliveries, channels: [...channels, { name: 'slack', events: ['requested'] }] });
    for (let i = 0; i < 20; i++) await approvals.request(await decide({ policy }, transfer(2000 + i)), { timeoutMs: 60_000, approvers: [], onTimeout: 'deny', escalateTo: [] });
    const slow = (send: typeof import('../src/notify/send.js').sendDelivery) => async (...args: Parameters<typeof send>) => {
      await new Promise((r) => setTimeout(r, 5));
      return send(...args);
    };
    const { sendDelivery } = await import('../src/notify/send.js');
    const [a, b] = await Promise.all([
      new Deliverer({ deliveries: store.deliveries, channels, send: slow(sendDelivery) }).runOnce(),
      new Deliverer({ deliveries: other.deliveries, channels, send: slow(sendDelivery) }).runOnce(),
    ]);
    expect(a.delivered + b.delivered).toBe(20);
    const ids = hook.received.map((r) => r.headers['agentguard-delivery']);
    expect(new Set(ids).size).toBe(20);
    expect(ids).toHaveLength(20);
    // The "slack" rows wait for a process that has that channel.
    expect((await store.deliveries.list({ status: 'pending' })).map((d) => d.channel)).toEqual(Array(20).fill('slack'));
  });
});

describe('the sidecar: notifications go out, and signed callbacks decide', () => {
  const authenticate: Authenticate = async (header) =>
    header === 'Bearer bot' ? { ok: true, token: { id: 'tok_bot', scope: { kind: 'agent', agentId: 'pay-bot' } } } : { ok: false, reason: 'unknown' };
  const SLACK_SIGNING = 'slack-signing-secret-1';

  async function sidecar() {
    const hook = await receiver();
    const slack = await receiver();
    const dataDir = tempDataDir('ag-notify-sidecar-');
    const recorder = await AuditRecorder.open({ dataDir, checkpointIntervalMs: 0 });
    const notify: NotifyChannel[] = [
      { type: 'webhook', name: 'ops', url: `${hook.url}/hook`, secret: SECRET, events: ['requested', 'approved', 'denied', 'expired'] },
      { type: 'slack', name: 'slack', webhookUrl: `${slack.url}/services/T/B/x`, signingSecret: SLACK_SIGNING, events: ['requested', 'approved', 'denied'] },
    ];
    const app = await buildSidecarApp({ policy, recorder, dataDir, authenticate, notify, approvalTickMs: 25 });
    cleanups.push(async () => {
      await app.close();
      await recorder.close();
    });
    const ask = async (amount: number) => {
      const decision = (await app.inject({ method: 'POST', url: '/v1/decide', headers: { authorization: 'Bearer bot' }, payload: { action: transfer(amount) } })).json();
      expect(decision.effect).toBe('require_approval');
      return decision.approval.id as string;
    };
    return { app, hook, slack, recorder, ask };
  }

  function signedCallback(body: object, { secret = SECRET, at = Math.floor(Date.now() / 1000), tamper = false } = {}) {
    const text = JSON.stringify(body);
    const header = signWebhook(secret, text, at);
    return { method: 'POST' as const, url: '/v1/approvals/callback', headers: { 'content-type': 'application/json', 'agentguard-signature': header }, payload: tamper ? text.replace('approve', 'deny') : text };
  }

  function slackClick(id: string, { user = 'alice', action = 'agentguard_approve', responseUrl = '', at = Math.floor(Date.now() / 1000), secret = SLACK_SIGNING } = {}) {
    const payload = {
      type: 'block_actions',
      user: { id: `U-${user}`, username: user, name: user },
      actions: [{ action_id: action, value: id, type: 'button' }],
      ...(responseUrl ? { response_url: responseUrl } : {}),
    };
    const body = `payload=${encodeURIComponent(JSON.stringify(payload))}`;
    const signature = `v0=${createHmac('sha256', secret).update(`v0:${at}:${body}`).digest('hex')}`;
    return { method: 'POST' as const, url: '/v1/slack/interactions', headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-slack-request-timestamp': String(at), 'x-slack-signature': signature }, payload: body };
  }

  it('sends the request to the webhook (signed) and to Slack (buttons); a signed callback approves; tampered and stale ones are refused', async () => {
    const { app, hook, slack, ask } = await sidecar();
    const id = await ask(5000);
    await vi.waitFor(() => {
      expect(hook.received).toHaveLength(1);
      expect(slack.received).toHaveLength(1);
    }, { timeout: 5_000 });
    expect(verifyWebhookSignature({ secret: SECRET, header: hook.received[0]!.headers['agentguard-signature'], body: hook.received[0]!.body }).ok).toBe(true);
    const blocks = JSON.stringify(JSON.parse(slack.received[0]!.body).blocks);
    expect(blocks).toContain('agentguard_approve');
    expect(blocks).toContain(id);

    const tampered = await app.inject(signedCallback({ approvalId: id, decision: 'approve', by: 'finance' }, { tamper: true }));
    expect(tampered.statusCode).toBe(401);
    expect(tampered.json().error.code).toBe('SIGNATURE_INVALID');
    const stale = await app.inject(signedCallback({ approvalId: id, decision: 'approve', by: 'finance' }, { at: Math.floor(Date.now() / 1000) - 301 }));
    expect(stale.statusCode).toBe(401);
    expect(stale.json().error.message).toContain('more than 5 minutes old');
    const wrongKey = await app.inject(signedCallback({ approvalId: id, decision: 'approve', by: 'finance' }, { secret: 'guess' }));
    expect(wrongKey.statusCode).toBe(401);
    const unsigned = await app.inject({ method: 'POST', url: '/v1/approvals/callback', headers: { 'content-type': 'application/json' }, payload: '{}' });
    expect(unsigned.statusCode).toBe(401);
    const unlisted = await app.inject(signedCallback({ approvalId: id, decision: 'approve', by: 'mallory' }));
    expect(unlisted.statusCode).toBe(403);
    const badBody = await app.inject(signedCallback({ approvalId: id, decision: 'maybe', by: 'finance' }));
    expect(badBody.statusCode).toBe(400);

    const approved = await app.inject(signedCallback({ approvalId: id, decision: 'approve', by: 'finance', comment: 'invoice 7' }));
    expect(approved.statusCode, approved.body).toBe(200);
    expect(approved.json()).toMatchObject({ id, status: 'approved', decidedBy: 'finance', comment: 'invoice 7' });
    // A replay within the window finds it decided.
    expect((await app.inject(signedCallback({ approvalId: id, decision: 'approve', by: 'finance', comment: 'invoice 7' }))).statusCode).toBe(409);
    await vi.waitFor(() => expect(hook.received.map((r) => JSON.parse(r.body).event)).toEqual(['requested', 'approved']), { timeout: 5_000 });
    // Counted once the outcome is stored, just after the receiver answered.
    await vi.waitFor(async () => {
      const metrics = (await app.inject({ method: 'GET', url: '/metrics' })).body;
      expect(metrics).toMatch(/agentguard_approval_notifications_total\{channel="ops",result="delivered"\} 2/);
    });
  });

  it('Slack buttons: a listed user approves and the message is replaced; others are told privately; bad signatures are refused', async () => {
    const { app, ask } = await sidecar();
    const responses = await receiver();
    const id = await ask(7000);

    const forged = await app.inject(slackClick(id, { secret: 'not-the-secret' }));
    expect(forged.statusCode).toBe(401);
    const old = await app.inject(slackClick(id, { at: Math.floor(Date.now() / 1000) - 600 }));
    expect(old.statusCode).toBe(401);

    const bob = await app.inject(slackClick(id, { user: 'bob', responseUrl: `${responses.url}/r1` }));
    expect(bob.statusCode).toBe(200);
    expect(bob.json()).toMatchObject({ ok: false, code: 'APPROVER_NOT_LISTED' });
    await vi.waitFor(() => expect(responses.received).toHaveLength(1));
    expect(JSON.parse(responses.received[0]!.body)).toMatchObject({ response_type: 'ephemeral', replace_original: false });

    const alice = await app.inject(slackClick(id, { user: 'alice', responseUrl: `${responses.url}/r2` }));
    expect(alice.json()).toMatchObject({ ok: true, approval: { id, status: 'approved', decidedBy: 'slack:alice' } });
    await vi.waitFor(() => expect(responses.received).toHaveLength(2));
    const replacement = JSON.parse(responses.received[1]!.body);
    expect(replacement.replace_original).toBe(true);
    expect(JSON.stringify(replacement.blocks)).not.toContain('agentguard_approve');
  });

  it('at start, queues the latest change of approvals a crash left without notifications, once', async () => {
    const hook = await receiver();
    const dataDir = tempDataDir('ag-notify-requeue-');
    let recorder = await AuditRecorder.open({ dataDir, checkpointIntervalMs: 0 });
    // Changes stored and audited by a process that died before queuing them (no outbox here).
    const bare = new Approvals(recorder.store.approvals, recorder);
    const pending = await bare.request(await decide({ policy }, transfer(5000)), { timeoutMs: 3_600_000, approvers: [], onTimeout: 'deny', escalateTo: [] });
    const approved = await bare.request(await decide({ policy }, transfer(6000)), { timeoutMs: 3_600_000, approvers: [], onTimeout: 'deny', escalateTo: [] });
    await bare.decide(approved.id, { status: 'approved', by: 'ana' });
    const notify: NotifyChannel[] = [{ type: 'webhook', name: 'ops', url: hook.url, secret: SECRET, events: ['requested', 'approved'] }];
    const start = async () => {
      const app = await buildSidecarApp({ policy, recorder, dataDir, authenticate, notify, approvalTickMs: 25 });
      const stop = async () => {
        await app.close();
        await recorder.close();
      };
      return { app, stop };
    };
    const { stop } = await start();
    await vi.waitFor(() => expect(hook.received).toHaveLength(2), { timeout: 5_000 });
    const sent = hook.received.map((r) => JSON.parse(r.body) as { event: string; approval: { id: string } });
    expect(sent.map((b) => [b.approval.id, b.event]).sort()).toEqual([[approved.id, 'approved'], [pending.id, 'requested']].sort());
    expect(JSON.stringify(sent)).not.toContain('sk-live-0123456789');
    await stop();
    // A second start finds nothing missing.
    recorder = await AuditRecorder.open({ dataDir, checkpointIntervalMs: 0 });
    const again = await start();
    cleanups.push(again.stop);
    expect(await again.app.sidecar.services.approvals.requeueMissing()).toBe(0);
    expect(await recorder.store.deliveries.list()).toHaveLength(2);
  });

  it('expires a pending approval on time without anyone reading it, and notifies the expiry', async () => {
    const shortPolicy = Policy.parse({ version: 1, name: 'short', rules: [{ id: 'ask', effect: 'require_approval', when: { name: 'payments.transfer' }, approval: { timeout: '1s' } }] });
    const hook = await receiver();
    const dataDir = tempDataDir('ag-notify-expire-');
    const recorder = await AuditRecorder.open({ dataDir, checkpointIntervalMs: 0 });
    const notify: NotifyChannel[] = [{ type: 'webhook', name: 'ops', url: hook.url, secret: SECRET, events: ['expired'] }];
    const app = await buildSidecarApp({ policy: shortPolicy, recorder, dataDir, authenticate, notify, approvalTickMs: 25 });
    cleanups.push(async () => {
      await app.close();
      await recorder.close();
    });
    const decision = (await app.inject({ method: 'POST', url: '/v1/decide', headers: { authorization: 'Bearer bot' }, payload: { action: transfer(10) } })).json();
    await vi.waitFor(() => expect(hook.received).toHaveLength(1), { timeout: 5_000 });
    expect(JSON.parse(hook.received[0]!.body)).toMatchObject({ event: 'expired', approval: { id: decision.approval.id, status: 'expired' } });
    const record = await recorder.store.approvals.get(decision.approval.id);
    expect(Date.parse(record!.decidedAt!)).toBeGreaterThanOrEqual(Date.parse(record!.expiresAt));
  });
});

describe('the SDK in local mode', () => {
  it('queues and sends the notifications of the approvals it asks for; flush() waits for the send', async () => {
    const hook = await receiver();
    process.env.AG_TEST_LOCAL_HOOK_SECRET = SECRET;
    cleanups.push(async () => delete process.env.AG_TEST_LOCAL_HOOK_SECRET);
    const guard = new AgentGuard({
      policy,
      agentId: 'pay-bot',
      dataDir: tempDataDir('ag-notify-local-'),
      approvals: { notify: [{ type: 'webhook', name: 'ops', url: hook.url, secretEnv: 'AG_TEST_LOCAL_HOOK_SECRET', events: ['requested'] }] },
    });
    cleanups.push(() => guard.close());
    const error = await guard.protect('payments.transfer', async () => 'sent')({ amount: 5000, to: 'acme' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApprovalRequiredError);
    await guard.flush();
    expect(hook.received).toHaveLength(1);
    expect(JSON.parse(hook.received[0]!.body)).toMatchObject({ event: 'requested', approval: { id: (error as ApprovalRequiredError).decision.approval!.id } });
    expect(verifyWebhookSignature({ secret: SECRET, header: hook.received[0]!.headers['agentguard-signature'], body: hook.received[0]!.body }).ok).toBe(true);
  });
});
