import { createServer, type IncomingMessage } from 'node:http';
import { writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Decision } from '../src/core/action.js';
import { Approvals } from '../src/core/approvals/service.js';
import { openStore } from '../src/core/store/open-store.js';
import { verifyWebhookSignature } from '../src/notify/signature.js';
import { runCliInProcess } from './helpers/cli-in-process.js';
import { makeTempDir } from './helpers/temp-dirs.js';

const SECRET = 'whsec-cli-test-0123456789';
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** The CLI in-process and asynchronous, so this process's fake receiver answers meanwhile. */
function cli(args: string[], options: { cwd: string; env?: Record<string, string> }): Promise<{ code: number; stdout: string; stderr: string }> {
  return runCliInProcess(args, options);
}

async function receiver(statuses: number[] = []) {
  const received: { headers: IncomingMessage['headers']; body: string }[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      received.push({ headers: req.headers, body });
      res.writeHead(statuses.shift() ?? 200).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(() => new Promise((r) => server.close(r)));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, received };
}

/** A project folder whose config sends approvals to a webhook (secret in $HOOK_SECRET) and to Slack (secrets not set here), with one pending approval. */
async function project(hookUrl: string) {
  const root = makeTempDir('ag-cli-deliveries-');
  writeFileSync(
    join(root, 'agentguard.config.json'),
    JSON.stringify({
      approvals: {
        notify: [
          { type: 'webhook', name: 'ops', url: hookUrl, secretEnv: 'HOOK_SECRET' },
          { type: 'slack', webhookUrlEnv: 'AG_TEST_SLACK_URL_UNSET', signingSecretEnv: 'AG_TEST_SLACK_SIGNING_UNSET' },
        ],
      },
    }),
  );
  const dataDir = join(root, '.agentguard');
  const store = await openStore({ dataDir });
  const decision: Decision = {
    id: 'dec_cli_1',
    effect: 'require_approval',
    action: { agent: { id: 'pay-bot' }, kind: 'tool', name: 'payments.transfer', input: { amount: 5000, to: 'acme' } },
    reasons: [{ rule: 'big', effect: 'require_approval', message: 'over 1000' }],
    findings: [],
    policy: { name: 'p', hash: 'sha256:00' },
    elapsedUs: 1,
  };
  const approval = await new Approvals(store.approvals, store.audit).request(decision, { timeoutMs: 3_600_000, approvers: [], onTimeout: 'deny', escalateTo: [] });
  await store.close();
  return { root, approval };
}

describe('approvals approve|deny|deliveries and notifications', () => {
  it('approve queues the change for every channel, sends the webhook at once (signed) and leaves Slack to the sidecar', async () => {
    const hook = await receiver();
    const { root, approval } = await project(hook.url);
    const approved = await cli(['approvals', 'approve', approval.id, '--by', 'ana'], { cwd: root, env: { HOOK_SECRET: SECRET } });
    expect(approved.code, approved.stderr).toBe(0);
    expect(approved.stderr).toContain('Notifications: 1 sent; queued for the sidecar: slack (AG_TEST_SLACK_URL_UNSET is not set here)');
    expect(hook.received).toHaveLength(1);
    expect(verifyWebhookSignature({ secret: SECRET, header: hook.received[0]!.headers['agentguard-signature'], body: hook.received[0]!.body }).ok).toBe(true);
    expect(JSON.parse(hook.received[0]!.body)).toMatchObject({ event: 'approved', approval: { id: approval.id, decidedBy: 'ana' } });

    const listed = await cli(['approvals', 'deliveries', '--json'], { cwd: root });
    expect(listed.code, listed.stderr).toBe(0);
    const rows = JSON.parse(listed.stdout) as { channel: string; event: string; status: string }[];
    // The seed asked for the approval without channels, so only the approval is queued: sent to ops, waiting for Slack.
    expect(rows.map((r) => [r.channel, r.event, r.status]).sort()).toEqual([
      ['ops', 'approved', 'delivered'],
      ['slack', 'approved', 'pending'],
    ]);
    const shown = await cli(['approvals', 'show', approval.id], { cwd: root });
    expect(shown.stdout).toMatch(/ops\s+approved\s+delivered/);
    expect(shown.stdout).toMatch(/slack\s+approved\s+pending/);
  });

  it('a refused delivery is marked failed and shown; --retry sends it again and exits 0 once it goes through', async () => {
    const hook = await receiver([410]);
    const { root, approval } = await project(hook.url);
    const denied = await cli(['approvals', 'deny', approval.id, '--by', 'ana', '--comment', 'no'], { cwd: root, env: { HOOK_SECRET: SECRET } });
    expect(denied.code, denied.stderr).toBe(0);
    expect(denied.stderr).toContain('1 failed');
    const failed = await cli(['approvals', 'deliveries', '--status', 'failed'], { cwd: root });
    expect(failed.stdout).toMatch(/ops\s+denied\s+failed\s+1 .*webhook channel "ops".*410/);
    expect(failed.stdout).not.toContain('127.0.0.1');
    const retried = await cli(['approvals', 'deliveries', '--retry', '--status', 'delivered'], { cwd: root, env: { HOOK_SECRET: SECRET } });
    expect(retried.code, retried.stderr).toBe(0);
    expect(retried.stderr).toContain('1 failed notification queued again');
    expect(retried.stdout).toMatch(/ops\s+denied\s+delivered/);
    expect(hook.received).toHaveLength(2);
  });

  it('a config with a bad channel is a usage error naming the field', async () => {
    const root = makeTempDir('ag-cli-deliveries-bad-');
    writeFileSync(join(root, 'agentguard.config.json'), JSON.stringify({ approvals: { notify: [{ type: 'webhook', url: 'http://hooks.example.com/x', secretEnv: 'X' }] } }));
    const result = await cli(['approvals', 'deliveries'], { cwd: root });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('approvals.notify[0].url must use https');
  });

  it('a sidecar whose channel secret is not set refuses to start (exit 2), naming the variable and not the secret', async () => {
    const root = makeTempDir('ag-cli-deliveries-sidecar-');
    const config = join(root, 'agentguard.config.json');
    writeFileSync(config, JSON.stringify({ approvals: { notify: [{ type: 'webhook', url: 'https://hooks.example.com/x', secretEnv: 'AG_TEST_UNSET_HOOK_SECRET' }] } }));
    writeFileSync(join(root, 'policy.yaml'), 'version: 1\nname: p\nrules: []\n');
    const result = await cli(['sidecar', 'start', '--port', '0', '--config', config, '--policy', join(root, 'policy.yaml'), '--data-dir', join(root, 'data')], { cwd: root });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('approvals.notify[0].secretEnv: the environment variable AG_TEST_UNSET_HOOK_SECRET is not set');
  });
});

