import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { Approvals } from '../src/core/approvals/service.js';
import type { ApprovalRecord, ApprovalSpec } from '../src/core/approvals/types.js';
import { loadPublicKey } from '../src/core/audit/keys.js';
import { verifyAudit } from '../src/core/audit/verify.js';
import { openStore } from '../src/core/store/open-store.js';
import { approvalDecision } from './helpers/approval-fixtures.js';
import { ROOT } from './helpers/cli.js';
import { runCliInProcess } from './helpers/cli-in-process.js';
import { makeTempDir } from './helpers/temp-dirs.js';

const MIN = 60_000;
const SECRET = 'sk-live-abcdefghijklmnopqrstuvwx';

function tempDataDir(): string {
  return join(makeTempDir('ag-cli-approvals-'), 'data');
}

const decision = approvalDecision;

const spec = (timeoutMs: number): ApprovalSpec => ({ timeoutMs, approvers: ['finance'], onTimeout: 'deny', escalateTo: [] });

interface Seeded {
  dataDir: string;
  fresh: ApprovalRecord;
  other: ApprovalRecord;
  stale: ApprovalRecord;
}

/** A data folder with three approvals asked through the service: two pending, one past its expiry but not yet swept. */
async function seed(): Promise<Seeded> {
  const dataDir = tempDataDir();
  const store = await openStore({ dataDir });
  try {
    let now = Date.now() - 2 * 60 * MIN;
    const approvals = new Approvals(store.approvals, store.audit, () => new Date(now));
    const stale = await approvals.request(decision('dec_stale', 3000), spec(15 * MIN));
    now = Date.now() - 1000;
    const fresh = await approvals.request(decision('dec_fresh', 5000, { apiKey: SECRET }), spec(60 * MIN));
    now += 1000;
    const other = await approvals.request(decision('dec_other', 7000), spec(60 * MIN));
    return { dataDir, fresh, other, stale };
  } finally {
    await store.close();
  }
}

async function approvalEvents(dataDir: string): Promise<Array<[string, string]>> {
  const store = await openStore({ dataDir, create: false });
  try {
    const records = await store.audit.query({ type: 'approval', order: 'asc' });
    return records.map((r) => [r.data.event as string, (r.data.approval as ApprovalRecord).id]);
  } finally {
    await store.close();
  }
}

function json<T>(stdout: string): T {
  return JSON.parse(stdout) as T;
}

beforeAll(async () => {
  // The race below runs the built store in several processes.
  expect(existsSync(join(ROOT, 'dist/core/approvals/service.js')), 'run `npm run build` first').toBe(true);
});

describe('agentguard approvals list', () => {
  it('prints an empty result with no database, and creates nothing', async () => {
    const dataDir = tempDataDir();
    const human = await runCliInProcess(['approvals', 'list', '--data-dir', dataDir]);
    expect(human.code).toBe(0);
    expect(human.stdout).toBe('');
    expect(human.stderr).toContain(`No approvals in ${dataDir} yet`);
    const asJson = await runCliInProcess(['approvals', 'list', '--data-dir', dataDir, '--json']);
    expect(asJson.code).toBe(0);
    expect(json(asJson.stdout)).toEqual([]);
    expect(existsSync(dataDir)).toBe(false);
  });

  it('lists every approval newest first, marking the ones past expiry expired (and recording that), filtered by --status', async () => {
    const { dataDir, fresh, other, stale } = await seed();
    const all = await runCliInProcess(['approvals', 'list', '--data-dir', dataDir, '--json']);
    expect(all.code).toBe(0);
    const records = json<ApprovalRecord[]>(all.stdout);
    expect(records.map((r) => [r.id, r.status])).toEqual([
      [other.id, 'pending'],
      [fresh.id, 'pending'],
      [stale.id, 'expired'],
    ]);
    expect(all.stdout).not.toContain(SECRET);
    const pending = await runCliInProcess(['approvals', 'list', '--status', 'pending', '--data-dir', dataDir, '--json']);
    expect(json<ApprovalRecord[]>(pending.stdout).map((r) => r.id)).toEqual([other.id, fresh.id]);
    const human = await runCliInProcess(['approvals', 'list', '--data-dir', dataDir]);
    expect(human.code).toBe(0);
    const lines = human.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ID\s+STATUS\s+AGENT\s+ACTION\s+RULES\s+REQUESTED \(UTC\)\s+EXPIRES \(UTC\)$/);
    expect(lines.slice(1).map((l) => l.split(/\s+/).slice(0, 5))).toEqual([
      [other.id, 'pending', 'pay-bot', 'payments.transfer', 'big-transfer'],
      [fresh.id, 'pending', 'pay-bot', 'payments.transfer', 'big-transfer'],
      [stale.id, 'expired', 'pay-bot', 'payments.transfer', 'big-transfer'],
    ]);
    const none = await runCliInProcess(['approvals', 'list', '--status', 'denied', '--data-dir', dataDir]);
    expect(none.code).toBe(0);
    expect(none.stdout).toBe('');
    expect(none.stderr).toContain('No approvals match.');
    // The expiry is recorded once, however many times the list is read.
    expect(await approvalEvents(dataDir)).toEqual([
      ['requested', stale.id],
      ['requested', fresh.id],
      ['requested', other.id],
      ['expired', stale.id],
    ]);
  });

  it('refuses an unknown --status with exit 2', async () => {
    const result = await runCliInProcess(['approvals', 'list', '--status', 'maybe', '--data-dir', tempDataDir()]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/maybe/);
  });
});

describe('agentguard approvals show', () => {
  it('shows one approval, secrets masked, and the same data with --json', async () => {
    const { dataDir, fresh } = await seed();
    const human = await runCliInProcess(['approvals', 'show', fresh.id, '--data-dir', dataDir]);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(new RegExp(`^id:\\s+${fresh.id}$`, 'm'));
    expect(human.stdout).toMatch(/^status:\s+pending$/m);
    expect(human.stdout).toMatch(/^action:\s+tool payments.transfer$/m);
    expect(human.stdout).toMatch(/^rules:\s+big-transfer$/m);
    expect(human.stdout).toMatch(/^approvers:\s+finance$/m);
    expect(human.stdout).toContain('"amount": 5000');
    expect(human.stdout).not.toContain(SECRET);
    const asJson = await runCliInProcess(['approvals', 'show', fresh.id, '--data-dir', dataDir, '--json']);
    expect(asJson.code).toBe(0);
    expect(json(asJson.stdout)).toEqual({ ...fresh, deliveries: [] });
  });

  it('exits 1 with a hint for an unknown id, with or without a database', async () => {
    const { dataDir } = await seed();
    for (const dir of [dataDir, tempDataDir()]) {
      const result = await runCliInProcess(['approvals', 'show', 'apr_nope', '--data-dir', dir]);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('Error (APPROVAL_NOT_FOUND): no approval with id "apr_nope"');
      expect(result.stderr).toContain('agentguard approvals list');
    }
    const asJson = await runCliInProcess(['approvals', 'show', 'apr_nope', '--data-dir', dataDir, '--json']);
    expect(asJson.code).toBe(1);
    expect(json<{ error: { code: string } }>(asJson.stdout).error.code).toBe('APPROVAL_NOT_FOUND');
  });
});

describe('agentguard approvals approve and deny', () => {
  it('approves and denies pending approvals, refuses closed and expired ones naming their status, and records each change once', async () => {
    const { dataDir, fresh, other, stale } = await seed();
    const approved = await runCliInProcess(['approvals', 'approve', fresh.id, '--by', 'alice', '--comment', 'vendor verified', '--data-dir', dataDir]);
    expect(approved.code).toBe(0);
    expect(approved.stdout).toBe(`Approved ${fresh.id} (payments.transfer by agent pay-bot) as alice: vendor verified\n`);

    const denied = await runCliInProcess(['approvals', 'deny', other.id, '--data-dir', dataDir, '--json'], { env: { USER: 'carol' } });
    expect(denied.code).toBe(0);
    expect(json<ApprovalRecord>(denied.stdout)).toMatchObject({ id: other.id, status: 'denied', decidedBy: 'carol', comment: null });

    const again = await runCliInProcess(['approvals', 'deny', fresh.id, '--by', 'bob', '--data-dir', dataDir]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(`Error (APPROVAL_CLOSED): approval ${fresh.id} is already approved by alice at `);

    const late = await runCliInProcess(['approvals', 'approve', stale.id, '--by', 'alice', '--data-dir', dataDir, '--json']);
    expect(late.code).toBe(1);
    const error = json<{ error: { code: string; message: string } }>(late.stdout).error;
    expect(error.code).toBe('APPROVAL_CLOSED');
    expect(error.message).toContain('is already expired');

    const unknown = await runCliInProcess(['approvals', 'approve', 'apr_nope', '--by', 'alice', '--data-dir', dataDir]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('APPROVAL_NOT_FOUND');
    expect(unknown.stderr).toContain('agentguard approvals list');

    const shown = json<ApprovalRecord>((await runCliInProcess(['approvals', 'show', fresh.id, '--data-dir', dataDir, '--json'])).stdout);
    expect(shown).toMatchObject({ status: 'approved', decidedBy: 'alice', comment: 'vendor verified', consumedAt: null });

    expect(await approvalEvents(dataDir)).toEqual([
      ['requested', stale.id],
      ['requested', fresh.id],
      ['requested', other.id],
      // The first command swept the stale approval before approving.
      ['expired', stale.id],
      ['approved', fresh.id],
      ['denied', other.id],
    ]);
    // The commands sign checkpoints, and the chain verifies with the data folder's key.
    const verify = await runCliInProcess(['audit', 'verify', '--data-dir', dataDir]);
    expect(verify.code, verify.stderr).toBe(0);
    const store = await openStore({ dataDir, create: false });
    try {
      expect((await store.audit.checkpoints()).length).toBeGreaterThan(0);
      expect(await verifyAudit(store, { publicKey: loadPublicKey(dataDir) })).toMatchObject({ ok: true, problems: [] });
    } finally {
      await store.close();
    }
  });

  it('exits 2 without a name, and 1 for any id when there is no database (creating nothing)', async () => {
    const { dataDir, fresh } = await seed();
    const noName = await runCliInProcess(['approvals', 'approve', fresh.id, '--by', ' ', '--data-dir', dataDir]);
    expect(noName.code).toBe(2);
    expect(noName.stderr).toContain('APPROVAL_BY_REQUIRED');
    expect(json<ApprovalRecord>((await runCliInProcess(['approvals', 'show', fresh.id, '--data-dir', dataDir, '--json'])).stdout).status).toBe('pending');
    const empty = tempDataDir();
    const missing = await runCliInProcess(['approvals', 'deny', 'apr_x', '--by', 'alice', '--data-dir', empty]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('APPROVAL_NOT_FOUND');
    expect(existsSync(empty)).toBe(false);
  });
});

describe('consuming an approval from several processes at once', () => {
  it('lets exactly one process run the approved action', async () => {
    const dataDir = tempDataDir();
    const store = await openStore({ dataDir });
    const approvals = new Approvals(store.approvals, store.audit);
    const d = decision('dec_race', 9000);
    const approval = await approvals.request(d, spec(60 * MIN));
    await approvals.decide(approval.id, { status: 'approved', by: 'alice' });
    await store.close();
    const dist = (file: string) => JSON.stringify(pathToFileURL(join(ROOT, 'dist', file)).href);
    const script = `
      import { openStore } from ${dist('core/store/open-store.js')};
      import { Approvals } from ${dist('core/approvals/service.js')};
      const store = await openStore({ dataDir: ${JSON.stringify(dataDir)} });
      const approvals = new Approvals(store.approvals, store.audit);
      process.stdout.write('ready\\n');
      await new Promise((resolve) => process.stdin.once('data', resolve));
      process.stdin.destroy();
      const ok = await approvals.consume(${JSON.stringify(approval.id)}, ${JSON.stringify(d.action)});
      await store.close();
      process.stdout.write(ok ? 'ran\\n' : 'refused\\n');`;
    const children = Array.from({ length: 6 }, () => spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['pipe', 'pipe', 'pipe'] }));
    const outputs = children.map((child) => {
      let out = '';
      let err = '';
      child.stdout.on('data', (b: Buffer) => (out += b.toString()));
      child.stderr.on('data', (b: Buffer) => (err += b.toString()));
      const ready = new Promise<void>((resolve, reject) => {
        child.stdout.on('data', () => out.includes('ready') && resolve());
        child.once('exit', () => reject(new Error(`child exited early: ${err}`)));
      });
      const done = new Promise<string>((resolve) => child.once('exit', () => resolve(out + err)));
      return { child, ready, done };
    });
    await Promise.all(outputs.map((o) => o.ready));
    for (const { child } of outputs) child.stdin.write('go\n');
    const results = await Promise.all(outputs.map((o) => o.done));
    expect(results.filter((r) => r.includes('ran'))).toHaveLength(1);
    expect(results.filter((r) => r.includes('refused'))).toHaveLength(5);
    expect((await approvalEvents(dataDir)).filter(([event]) => event === 'consumed')).toEqual([['consumed', approval.id]]);
  });
});
