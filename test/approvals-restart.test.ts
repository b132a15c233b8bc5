import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { runCliInProcess } from './helpers/cli-in-process.js';
import { makeTempDir } from './helpers/temp-dirs.js';
import { createToken, killStartedSidecars, startSidecar, until } from './helpers/sidecar-process.js';

afterAll(killStartedSidecars);

const POLICY = `version: 1
name: restart
default: deny
rules:
  - id: quick
    effect: require_approval
    when: { name: payments.transfer, input.to: quick }
    approval: { timeout: 20s }
  - id: slow
    effect: require_approval
    when: { name: payments.transfer, input.to: slow }
    approval: { timeout: 10m, approvers: [finance] }
`;

async function call(url: string, token: string, method: string, path: string, body?: unknown) {
  const response = await fetch(`${url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, any> };
}

function approvalRow(dataDir: string, id: string): { status: string; expires_at: string; decided_at: string | null } {
  const db = new Database(join(dataDir, 'agentguard.db'), { readonly: true });
  try {
    return db.prepare('SELECT status, expires_at, decided_at FROM approvals WHERE id = ?').get(id) as { status: string; expires_at: string; decided_at: string | null };
  } finally {
    db.close();
  }
}

describe('a sidecar restart while approvals are pending', () => {
  it('keeps them pending, expires the short one on time with nobody reading it, and the long one can still be approved and used once', async () => {
    const root = makeTempDir('ag-approvals-restart-');
    const dataDir = join(root, 'data');
    const policy = join(root, 'policy.yaml');
    writeFileSync(policy, POLICY);
    const agent = (await createToken(dataDir, '--agent', 'pay-bot')).token;
    const admin = (await createToken(dataDir, '--admin')).token;

    let sidecar = await startSidecar(dataDir, policy);
    const quick = await call(sidecar.url, agent, 'POST', '/v1/decide', { action: { kind: 'tool', name: 'payments.transfer', input: { amount: 9, to: 'quick' } } });
    const slow = await call(sidecar.url, agent, 'POST', '/v1/decide', { action: { kind: 'tool', name: 'payments.transfer', input: { amount: 9, to: 'slow' } } });
    expect(quick.body.approval.status).toBe('pending');
    expect(slow.body.approval.status).toBe('pending');
    expect((await runCliInProcess(['sidecar', 'stop', '--data-dir', dataDir])).code).toBe(0);

    sidecar = await startSidecar(dataDir, policy);
    // Both survived the restart, still pending (the quick one has seconds left).
    expect((await call(sidecar.url, admin, 'GET', `/v1/approvals/${slow.body.approval.id}`)).body.status).toBe('pending');
    expect(approvalRow(dataDir, quick.body.approval.id).status).toBe('pending');

    // Nobody reads the quick one: the restarted sidecar expires it by itself, at its expiry.
    const expired = await until(async () => {
      const row = approvalRow(dataDir, quick.body.approval.id);
      return row.status === 'expired' ? row : undefined;
    }, 40_000);
    expect(Date.parse(expired.decided_at!)).toBeGreaterThanOrEqual(Date.parse(expired.expires_at));
    expect(Date.parse(expired.decided_at!) - Date.parse(expired.expires_at)).toBeLessThan(10_000);

    const approved = await call(sidecar.url, admin, 'POST', `/v1/approvals/${slow.body.approval.id}/approve`, { by: 'finance', comment: 'after restart' });
    expect(approved.status).toBe(200);
    const consume = () => call(sidecar.url, agent, 'POST', `/v1/approvals/${slow.body.approval.id}/consume`, { action: slow.body.action });
    expect((await consume()).body).toEqual({ consumed: true });
    expect((await consume()).body).toEqual({ consumed: false });
    expect((await runCliInProcess(['sidecar', 'stop', '--data-dir', dataDir])).code).toBe(0);
    // The trail holds each change once, across both runs, and verifies.
    const verify = await runCliInProcess(['audit', 'verify', '--data-dir', dataDir]);
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
    const events = await runCliInProcess(['audit', 'query', '--type', 'approval', '--json', '--data-dir', dataDir]);
    const names = (JSON.parse(events.stdout) as { data: { event: string } }[]).map((r) => r.data.event).sort();
    expect(names).toEqual(['approved', 'consumed', 'expired', 'requested', 'requested']);
  }, 90_000);
});
