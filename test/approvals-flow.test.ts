import { afterEach, describe, expect, it, vi } from 'vitest';
import { Approvals } from '../src/core/approvals/service.js';
import { AuditRecorder } from '../src/core/audit/recorder.js';
import { Policy } from '../src/core/policy/policy.js';
import { buildSidecarApp, type Authenticate } from '../src/sidecar/app.js';
import { AgentGuard, AgentGuardDeniedError, ApprovalRequiredError } from '../src/sdk/index.js';
import { tempDataDir } from './helpers/audit-log.js';

const POLICY = Policy.parse({
  version: 1,
  name: 'approvals',
  rules: [
    { id: 'small', effect: 'allow', when: { name: 'payments.transfer', 'input.amount': { lte: 100 } } },
    { id: 'big', effect: 'require_approval', when: { name: 'payments.transfer', 'input.amount': { gt: 100 } }, message: 'Transfers over 100 need a person', approval: { timeout: '10m', approvers: ['finance-leads'] } },
    { id: 'sanctioned', effect: 'deny', when: { name: 'payments.transfer', 'input.to': 'sanctioned-co' } },
  ],
});

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function localGuard() {
  const dataDir = tempDataDir('ag-approvals-flow-');
  const guard = new AgentGuard({ policy: POLICY, agentId: 'payments-bot', dataDir });
  cleanups.push(() => guard.close());
  // A person deciding from another connection to the same store (as the CLI does).
  const recorder = await AuditRecorder.open({ dataDir });
  cleanups.push(() => recorder.close());
  const people = new Approvals(recorder.store.approvals, recorder);
  return { guard, people, recorder };
}

describe('approvals through the pipeline and the SDK (local mode)', () => {
  it('require_approval creates a pending approval bound to the action; protect() without waiting throws with its id', async () => {
    const { guard, people } = await localGuard();
    const transfer = vi.fn(async ({ amount }: { amount: number; to: string }) => `sent ${amount}`);
    const error = (await guard.protect('payments.transfer', transfer)({ amount: 500, to: 'acme' }).catch((e: unknown) => e)) as ApprovalRequiredError;
    expect(error).toBeInstanceOf(ApprovalRequiredError);
    const approval = error.decision.approval!;
    expect(approval).toMatchObject({ status: 'pending' });
    const record = await people.get(approval.id);
    expect(record).toMatchObject({ status: 'pending', approvers: ['finance-leads'], agentId: 'payments-bot', rules: ['big'] });
    expect(Date.parse(record!.expiresAt) - Date.parse(record!.requestedAt)).toBe(10 * 60_000);
    expect(transfer).not.toHaveBeenCalled();
  });

  it('waitForApproval: runs once after a person approves; the same payload later asks again', async () => {
    const { guard, people } = await localGuard();
    const transfer = vi.fn(async ({ amount }: { amount: number; to: string }) => `sent ${amount}`);
    const protectedTransfer = guard.protect('payments.transfer', transfer, { waitForApproval: { pollMs: 20, timeoutMs: 5_000 } });
    const running = protectedTransfer({ amount: 500, to: 'acme' });
    let pending: string | undefined;
    await vi.waitFor(async () => {
      pending = (await people.list({ status: 'pending' }))[0]?.id;
      expect(pending).toBeDefined();
    });
    await people.decide(pending!, { status: 'approved', by: 'ana', comment: 'invoice 42' });
    await expect(running).resolves.toBe('sent 500');
    expect(transfer).toHaveBeenCalledTimes(1);
    // The approval is spent: it never authorises a second run, not even of the same action.
    expect(await guard.approvals.consume(pending!, (await people.get(pending!))!.action)).toBe(false);
    // The same payload in a new decision gets a new approval.
    const again = (await guard.protect('payments.transfer', transfer)({ amount: 500, to: 'acme' }).catch((e: unknown) => e)) as ApprovalRequiredError;
    expect(again.decision.approval!.id).not.toBe(pending);
  });

  it('a denied or expired approval throws AgentGuardDeniedError and nothing runs; a bounded wait gives up without running', async () => {
    const { guard, people } = await localGuard();
    const transfer = vi.fn(async () => 'sent');
    const denied = guard.protect('payments.transfer', transfer, { waitForApproval: { pollMs: 20 } })({ amount: 900, to: 'acme' }).catch((e: unknown) => e);
    await vi.waitFor(async () => expect((await people.list({ status: 'pending' })).length).toBe(1));
    const [record] = await people.list({ status: 'pending' });
    await people.decide(record!.id, { status: 'denied', by: 'ana', comment: 'not in budget' });
    const error = (await denied) as AgentGuardDeniedError;
    expect(error).toBeInstanceOf(AgentGuardDeniedError);
    expect(error.decision.reasons.at(-1)).toMatchObject({ code: 'approval_denied' });
    expect(error.decision.reasons.at(-1)!.message).toContain('by ana: not in budget');

    const bounded = (await guard.protect('payments.transfer', transfer, { waitForApproval: { pollMs: 20, timeoutMs: 100 } })({ amount: 700, to: 'acme' }).catch((e: unknown) => e)) as AgentGuardDeniedError;
    expect(bounded.decision.reasons.at(-1)).toMatchObject({ code: 'approval_wait_timeout' });
    expect(transfer).not.toHaveBeenCalled();
  });

  it('decide() with waitForApproval returns allow once approved (the approval spent), and deny when denied; without it, the pending decision', async () => {
    const { guard, people } = await localGuard();
    const action = { kind: 'tool', name: 'payments.transfer', input: { amount: 650, to: 'acme' } };
    const pending = await guard.decide(action);
    expect(pending).toMatchObject({ effect: 'require_approval', approval: { status: 'pending' } });
    const waiting = guard.decide(action, { waitForApproval: { pollMs: 20, timeoutMs: 5_000 } });
    let id: string | undefined;
    await vi.waitFor(async () => {
      id = (await people.list({ status: 'pending' })).find((a) => a.id !== pending.approval!.id)?.id;
      expect(id).toBeDefined();
    });
    await people.decide(id!, { status: 'approved', by: 'ana' });
    const allowed = await waiting;
    expect(allowed).toMatchObject({ effect: 'allow', approval: { id, status: 'approved' } });
    expect(allowed.reasons.at(-1)).toMatchObject({ effect: 'allow', code: 'approval_approved' });
    expect((await people.get(id!))?.consumedAt).not.toBeNull();

    const refused = guard.decide(action, { waitForApproval: { pollMs: 20, timeoutMs: 5_000 } });
    let next: string | undefined;
    await vi.waitFor(async () => {
      next = (await people.list({ status: 'pending' })).find((a) => a.id !== pending.approval!.id && a.id !== id)?.id;
      expect(next).toBeDefined();
    });
    await people.decide(next!, { status: 'denied', by: 'ana', comment: 'no' });
    expect(await refused).toMatchObject({ effect: 'deny', approval: { id: next, status: 'denied' } });
    // A bounded wait that nobody answers ends in deny, and the approval stays pending.
    const unanswered = await guard.decide(action, { waitForApproval: { pollMs: 20, timeoutMs: 100 } });
    expect(unanswered.effect).toBe('deny');
    expect(unanswered.reasons.at(-1)?.code).toBe('approval_wait_timeout');
    expect((await people.get(unanswered.approval!.id))?.status).toBe('pending');
  });

  it('a deny rule that also matches wins without asking anyone', async () => {
    const { guard, people } = await localGuard();
    const decision = await guard.decide({ kind: 'tool', name: 'payments.transfer', input: { amount: 5_000, to: 'sanctioned-co' } });
    expect(decision.effect).toBe('deny');
    expect(decision.approval).toBeUndefined();
    expect(await people.list({})).toHaveLength(0);
  });

  it('an approval block is only allowed on require_approval rules, and durations are checked', () => {
    expect(() => Policy.parse({ version: 1, name: 'x', rules: [{ id: 'a', effect: 'allow', approval: { timeout: '5m' } }] })).toThrow(/approval/);
    expect(() => Policy.parse({ version: 1, name: 'x', rules: [{ id: 'a', effect: 'require_approval', approval: { timeout: 'soon' } }] })).toThrow(/timeout/);
  });
});

describe('approvals through the sidecar', () => {
  const authenticate: Authenticate = async (header) => {
    if (header === 'Bearer admin-1') return { ok: true, token: { id: 'tok_admin', scope: { kind: 'admin' } } };
    if (header === 'Bearer bot-1') return { ok: true, token: { id: 'tok_bot', scope: { kind: 'agent', agentId: 'payments-bot' } } };
    if (header === 'Bearer lead-1') return { ok: true, token: { id: 'tok_lead', scope: { kind: 'approver', approver: 'finance-leads' } } };
    if (header === 'Bearer intern-1') return { ok: true, token: { id: 'tok_intern', scope: { kind: 'approver', approver: 'intern' } } };
    return { ok: false, reason: 'unknown' };
  };

  async function sidecarApp() {
    const dataDir = tempDataDir('ag-approvals-sidecar-');
    const recorder = await AuditRecorder.open({ dataDir, checkpointIntervalMs: 0 });
    const app = await buildSidecarApp({ policy: POLICY, recorder, dataDir, authenticate });
    cleanups.push(async () => {
      await app.close();
      await recorder.close();
    });
    return { app, recorder };
  }

  it('decide creates the approval; GET ?wait long-polls until an admin approves; it is spent once; agents cannot approve', async () => {
    const { app, recorder } = await sidecarApp();
    const bot = { authorization: 'Bearer bot-1' };
    const admin = { authorization: 'Bearer admin-1' };
    const decision = (await app.inject({ method: 'POST', url: '/v1/decide', headers: bot, payload: { action: { kind: 'tool', name: 'payments.transfer', input: { amount: 500, to: 'acme' } } } })).json();
    expect(decision).toMatchObject({ effect: 'require_approval', approval: { status: 'pending' } });
    const id = decision.approval.id as string;

    expect((await app.inject({ method: 'POST', url: `/v1/approvals/${id}/approve`, headers: bot, payload: { by: 'bot' } })).statusCode).toBe(403);
    const waiting = app.inject({ method: 'GET', url: `/v1/approvals/${id}?wait=5s`, headers: bot });
    await new Promise((r) => setTimeout(r, 100));
    const approved = await app.inject({ method: 'POST', url: `/v1/approvals/${id}/approve`, headers: admin, payload: { by: 'ana', comment: 'ok' } });
    expect(approved.statusCode, approved.body).toBe(200);
    expect((await waiting).json()).toMatchObject({ id, status: 'approved', decidedBy: 'ana' });
    expect((await app.inject({ method: 'POST', url: `/v1/approvals/${id}/deny`, headers: admin, payload: { by: 'bob' } })).statusCode).toBe(409);

    const consume = () => app.inject({ method: 'POST', url: `/v1/approvals/${id}/consume`, headers: bot, payload: { action: decision.action } });
    expect((await consume()).json()).toEqual({ consumed: true });
    expect((await consume()).json()).toEqual({ consumed: false });
    const listed = (await app.inject({ method: 'GET', url: '/v1/approvals?status=approved', headers: admin })).json();
    expect(listed.approvals.map((a: { id: string }) => a.id)).toEqual([id]);
    const types = (await recorder.store.audit.query({ type: 'approval', order: 'asc' })).map((r) => (r.data as { event: string }).event);
    expect(types).toEqual(['requested', 'approved', 'consumed']);
  });

  it('approver tokens: decide only listed approvals, only in their own name, and cannot act as an agent or read the audit', async () => {
    const { app } = await sidecarApp();
    const bot = { authorization: 'Bearer bot-1' };
    const lead = { authorization: 'Bearer lead-1' };
    const intern = { authorization: 'Bearer intern-1' };
    const action = { kind: 'tool', name: 'payments.transfer', input: { amount: 700, to: 'acme' } };
    const decision = (await app.inject({ method: 'POST', url: '/v1/decide', headers: bot, payload: { action } })).json();
    const id = decision.approval.id as string;

    // An approver token acts for no agent and reads no audit.
    expect((await app.inject({ method: 'POST', url: '/v1/decide', headers: lead, payload: { action } })).statusCode).toBe(403);
    expect((await app.inject({ method: 'GET', url: '/v1/audit', headers: lead })).statusCode).toBe(403);
    expect((await app.inject({ method: 'POST', url: `/v1/approvals/${id}/consume`, headers: lead, payload: { action: decision.action } })).statusCode).toBe(403);
    // An agent token cannot list approvals.
    expect((await app.inject({ method: 'GET', url: '/v1/approvals', headers: bot })).statusCode).toBe(403);

    // The rule lists finance-leads: the intern neither sees nor decides it.
    expect((await app.inject({ method: 'GET', url: '/v1/approvals', headers: intern })).json().approvals).toEqual([]);
    expect((await app.inject({ method: 'GET', url: `/v1/approvals/${id}`, headers: intern })).statusCode).toBe(404);
    expect((await app.inject({ method: 'POST', url: `/v1/approvals/${id}/approve`, headers: intern, payload: {} })).statusCode).toBe(404);

    // The lead sees it and decides in its own name only.
    expect((await app.inject({ method: 'GET', url: '/v1/approvals', headers: lead })).json().approvals.map((a: { id: string }) => a.id)).toEqual([id]);
    const spoof = await app.inject({ method: 'POST', url: `/v1/approvals/${id}/approve`, headers: lead, payload: { by: 'cfo' } });
    expect(spoof.statusCode).toBe(403);
    expect(spoof.json().error.message).toContain('decides as "finance-leads"');
    const approved = await app.inject({ method: 'POST', url: `/v1/approvals/${id}/approve`, headers: lead, payload: { comment: 'invoice 9' } });
    expect(approved.statusCode, approved.body).toBe(200);
    expect(approved.json()).toMatchObject({ status: 'approved', decidedBy: 'finance-leads', comment: 'invoice 9' });
    // An admin must name who decides.
    const other = (await app.inject({ method: 'POST', url: '/v1/decide', headers: bot, payload: { action: { ...action, input: { amount: 800, to: 'acme' } } } })).json();
    const unnamed = await app.inject({ method: 'POST', url: `/v1/approvals/${other.approval.id}/deny`, headers: { authorization: 'Bearer admin-1' }, payload: {} });
    expect(unnamed.statusCode).toBe(400);
    expect(unnamed.json().error.code).toBe('APPROVAL_BY_REQUIRED');
  });
});
