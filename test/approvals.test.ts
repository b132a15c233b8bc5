import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import type { Action, Decision } from '../src/core/action.js';
import { actionHash, ApprovalClosedError, Approvals, parseDuration } from '../src/core/approvals/service.js';
import { mayDecide } from '../src/core/approvals/entitlement.js';
import type { ApprovalRecord, ApprovalSpec } from '../src/core/approvals/types.js';
import { verifyAudit } from '../src/core/audit/verify.js';
import { AgentGuardError } from '../src/core/errors.js';
import { decide } from '../src/core/pipeline.js';
import { Policy } from '../src/core/policy/policy.js';
import { MIGRATIONS, migrate, SCHEMA_VERSION } from '../src/core/store/sqlite/migrations.js';
import { SqliteStore } from '../src/core/store/sqlite/sqlite-store.js';
import { rawDb } from './helpers/audit-log.js';
import { makeTempDir } from './helpers/temp-dirs.js';

const T0 = Date.parse('2026-03-01T12:00:00.000Z');
const MIN = 60_000;

const policy = Policy.parse({
  version: 1,
  name: 'payments',
  default: 'allow',
  rules: [
    { id: 'big-transfer', effect: 'require_approval', when: { name: 'payments.transfer', 'input.amount': { gt: 1000 } }, message: 'Transfers over 1000 need a person' },
    { id: 'no-sanctioned', effect: 'deny', when: { name: 'payments.transfer', 'input.to': 'sanctioned' } },
  ],
});

const spec = (overrides: Partial<ApprovalSpec> = {}): ApprovalSpec => ({ timeoutMs: 15 * MIN, approvers: ['finance'], onTimeout: 'deny', escalateTo: [], ...overrides });

function transfer(amount = 5000, agent = 'pay-bot', extra: Record<string, unknown> = {}): Action {
  return { agent: { id: agent }, kind: 'tool', name: 'payments.transfer', input: { amount, to: 'acme', ...extra }, context: { session: 's-1' } };
}

/** A controllable clock. */
function clock(start = T0) {
  let t = start;
  return { now: () => new Date(t), advance: (ms: number) => void (t += ms), set: (ms: number) => void (t = ms) };
}

const stores: SqliteStore[] = [];
afterEach(async () => {
  await Promise.all(stores.splice(0).map((s) => s.close()));
});

function tempFile(): string {
  return join(makeTempDir('ag-approvals-'), 'agentguard.db');
}

function open(file: string): SqliteStore {
  const store = SqliteStore.open(file);
  stores.push(store);
  return store;
}

/** A store over a new database and an Approvals recording into its audit chain. */
function setup(c = clock()) {
  const file = tempFile();
  const store = open(file);
  const approvals = new Approvals(store.approvals, store.audit, c.now);
  return { file, store, approvals, clock: c };
}

async function decided(action: Action): Promise<Decision> {
  const decision = await decide({ policy }, action);
  expect(decision.effect).toBe('require_approval');
  return decision;
}

async function approvalEvents(store: SqliteStore) {
  const records = await store.audit.query({ type: 'approval', order: 'asc' });
  return records.map((r) => ({ event: r.data.event as string, id: (r.data.approval as ApprovalRecord).id, status: (r.data.approval as ApprovalRecord).status, record: r }));
}

async function errorOf(promise: Promise<unknown>): Promise<AgentGuardError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(AgentGuardError);
  return error as AgentGuardError;
}

describe('migration 5: the approvals table', () => {
  it('adds the table with one column per field, decision_id unique and the two indexes, upgrading a version-4 database', () => {
    const file = tempFile();
    const old = rawDb(file);
    migrate(old, file, MIGRATIONS.slice(0, 4));
    expect(old.pragma('user_version', { simple: true })).toBe(4);
    old.close();
    open(file);
    const db = rawDb(file);
    expect(SCHEMA_VERSION).toBeGreaterThanOrEqual(5);
    expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    expect(db.prepare("SELECT name FROM pragma_table_info('approvals') ORDER BY cid").pluck().all()).toEqual([
      'id', 'decision_id', 'action_hash', 'agent_id', 'action', 'rules', 'reason', 'requested_at', 'expires_at', 'escalate_at',
      'approvers', 'escalate_to', 'escalated_at', 'status', 'decided_at', 'decided_by', 'comment', 'consumed_at',
    ]);
    const indexes = db.prepare("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'approvals' ORDER BY name").all() as { name: string; sql: string | null }[];
    expect(indexes.filter((i) => i.sql !== null).map((i) => i.name)).toEqual(['approvals_requested', 'approvals_status_expires']);
    expect(indexes.find((i) => i.name === 'approvals_status_expires')?.sql).toMatch(/\(status, expires_at\)/);
    // The UNIQUE constraint on decision_id shows as an automatic index.
    const unique = db.prepare("SELECT name FROM pragma_index_list('approvals') WHERE \"unique\" = 1 AND origin = 'u'").pluck().all() as string[];
    expect(unique).toHaveLength(1);
    expect(db.prepare(`SELECT name FROM pragma_index_info('${unique[0]}')`).pluck().all()).toEqual(['decision_id']);
    db.close();
  });

  it('stores action, rules, approvers and escalateTo as JSON text, and refuses a second approval for one decision', async () => {
    const { file, store, approvals } = setup();
    const record = await approvals.request(await decided(transfer()), spec({ escalateTo: ['cfo'] }));
    const db = rawDb(file);
    const row = db.prepare('SELECT action, rules, approvers, escalate_to AS escalateTo FROM approvals WHERE id = ?').get(record.id) as Record<string, string>;
    expect(JSON.parse(row.action)).toEqual(record.action);
    expect(row.rules).toBe('["big-transfer"]');
    expect(row.approvers).toBe('["finance"]');
    expect(row.escalateTo).toBe('["cfo"]');
    db.close();
    await expect(store.approvals.create({ ...record, id: 'apr_other' })).rejects.toThrow(/UNIQUE/);
  });
});

describe('actionHash and parseDuration', () => {
  it('is the sha256 hex of the canonical agent, kind, name, input and context, whatever the key order', () => {
    const a = transfer();
    expect(actionHash(a)).toMatch(/^[0-9a-f]{64}$/);
    const reordered: Action = { context: { session: 's-1' }, input: { to: 'acme', amount: 5000 }, name: 'payments.transfer', kind: 'tool', agent: { id: 'pay-bot' } };
    expect(actionHash(reordered)).toBe(actionHash(a));
    // Fields of the agent other than its id do not matter; everything else does.
    expect(actionHash({ ...a, agent: { id: 'pay-bot', team: 'x' } })).toBe(actionHash(a));
    expect(actionHash(transfer(5001))).not.toBe(actionHash(a));
    expect(actionHash(transfer(5000, 'other-bot'))).not.toBe(actionHash(a));
    expect(actionHash({ ...a, agent: undefined })).not.toBe(actionHash(a));
    expect(actionHash({ ...a, kind: 'http' })).not.toBe(actionHash(a));
    expect(actionHash({ ...a, name: 'payments.refund' })).not.toBe(actionHash(a));
    expect(actionHash({ ...a, context: { session: 's-2' } })).not.toBe(actionHash(a));
  });

  it('parses 30s, 15m, 2h, 1d and combinations, and throws on anything else', () => {
    expect(parseDuration('30s')).toBe(30_000);
    expect(parseDuration('15m')).toBe(15 * MIN);
    expect(parseDuration('2h')).toBe(120 * MIN);
    expect(parseDuration('1d')).toBe(1440 * MIN);
    expect(parseDuration('1h30m')).toBe(90 * MIN);
    for (const bad of ['', '15', 'm', '15 m', '1.5h', '-5m', '15min', '0s', ' 15m', 'forever']) {
      expect(() => parseDuration(bad), bad).toThrow(AgentGuardError);
    }
  });
});

describe('Approvals: the issue\'s invariants', () => {
  it('requests a pending approval bound to the action, masked, with expiry and escalation from the spec', async () => {
    const { approvals } = setup();
    const action = transfer(5000, 'pay-bot', { apiKey: 'sk-live-abcdefghijklmnopqrstuvwx', note: 'token=ghp_0123456789abcdefghijklmnopqrstuvwxyzAB' });
    const decision = await decided(action);
    const record = await approvals.request(decision, spec({ escalateAfterMs: 5 * MIN, escalateTo: ['cfo'] }));
    expect(record).toMatchObject({
      decisionId: decision.id,
      actionHash: actionHash(decision.action),
      agentId: 'pay-bot',
      rules: ['big-transfer'],
      reason: 'Transfers over 1000 need a person',
      requestedAt: '2026-03-01T12:00:00.000Z',
      expiresAt: '2026-03-01T12:15:00.000Z',
      escalateAt: '2026-03-01T12:05:00.000Z',
      approvers: ['finance'],
      escalateTo: ['cfo'],
      status: 'pending',
      escalatedAt: null,
      decidedAt: null,
      consumedAt: null,
    });
    expect(record.id).toMatch(/^apr_[0-9a-f]{32}$/);
    const text = JSON.stringify(record);
    expect(text).not.toContain('sk-live-abcdefghijklmnopqrstuvwx');
    expect(text).not.toContain('ghp_0123456789abcdefghijklmnopqrstuvwxyzAB');
    expect(record.action.input?.amount).toBe(5000);
    expect(await approvals.get(record.id)).toEqual(record);
  });

  it('gives the same payload in a new decision a new approval', async () => {
    const { approvals } = setup();
    const first = await approvals.request(await decided(transfer()), spec());
    const second = await approvals.request(await decided(transfer()), spec());
    expect(second.id).not.toBe(first.id);
    expect(second.decisionId).not.toBe(first.decisionId);
    expect(second.actionHash).toBe(first.actionHash);
    expect((await approvals.list({ status: 'pending' })).map((r) => r.id).sort()).toEqual([first.id, second.id].sort());
  });

  it('returns the earlier record for a retry of the same decision id, and asks nobody again', async () => {
    const { store, approvals, clock: c } = setup();
    const decision = await decided(transfer());
    const first = await approvals.request(decision, spec());
    c.advance(MIN);
    expect(await approvals.request(decision, spec({ timeoutMs: 60 * MIN }))).toEqual(first);
    await approvals.decide(first.id, { status: 'denied', by: 'alice' });
    // After the outcome the retry gets the outcome, not a new question.
    expect(await approvals.request(decision, spec())).toMatchObject({ id: first.id, status: 'denied', decidedBy: 'alice' });
    expect((await approvals.list()).length).toBe(1);
    expect((await approvalEvents(store)).map((e) => e.event)).toEqual(['requested', 'denied']);
  });

  it('changed arguments give another actionHash, and an approval never authorises another action or agent', async () => {
    const { approvals } = setup();
    const decision = await decided(transfer(5000));
    const approval = await approvals.request(decision, spec());
    const changed = await decided(transfer(5001));
    const other = await approvals.request(changed, spec());
    expect(other.actionHash).not.toBe(approval.actionHash);
    expect(other.id).not.toBe(approval.id);
    await approvals.decide(approval.id, { status: 'approved', by: 'alice' });
    expect(await approvals.consume(approval.id, transfer(5001))).toBe(false);
    expect(await approvals.consume(approval.id, transfer(5000, 'other-bot'))).toBe(false);
    expect(await approvals.consume(approval.id, { ...transfer(5000), context: { session: 's-2' } })).toBe(false);
    // The other approval is still pending: approving the first did not approve it.
    expect(await approvals.consume(other.id, transfer(5001))).toBe(false);
    expect((await approvals.get(other.id))?.status).toBe('pending');
    expect((await approvals.get(approval.id))?.consumedAt).toBeNull();
    expect(await approvals.consume(approval.id, decision.action)).toBe(true);
  });

  it('property: an approved approval authorises exactly its own action, once, whatever the other action is', async () => {
    const { approvals } = setup();
    const json = fc.jsonValue({ maxDepth: 2 });
    const action = fc.record({
      agent: fc.constantFrom('pay-bot', 'other-bot'),
      name: fc.constantFrom('payments.transfer', 'payments.refund'),
      input: fc.dictionary(fc.constantFrom('amount', 'to', 'memo'), json, { maxKeys: 3 }),
      context: fc.option(fc.dictionary(fc.constantFrom('session', 'user'), fc.string({ maxLength: 4 }), { maxKeys: 2 }), { nil: undefined }),
    });
    const asAction = (a: { agent: string; name: string; input: Record<string, unknown>; context?: Record<string, unknown> }): Action => ({
      agent: { id: a.agent },
      kind: 'tool',
      name: a.name,
      input: { ...a.input, amount: 5000 + Object.keys(a.input).length },
      ...(a.context === undefined ? {} : { context: a.context }),
    });
    let n = 0;
    await fc.assert(
      fc.asyncProperty(action, action, async (a, b) => {
        const asked = asAction(a);
        const tried = asAction(b);
        const decision: Decision = { ...(await decided(transfer())), id: `dec_prop_${n++}`, action: asked };
        const approval = await approvals.request(decision, spec());
        await approvals.decide(approval.id, { status: 'approved', by: 'alice' });
        const same = actionHash(asked) === actionHash(tried);
        expect(await approvals.consume(approval.id, tried)).toBe(same);
        // Whatever happened above, the action it was asked for runs at most once in all.
        const first = await approvals.consume(approval.id, asked);
        expect(first).toBe(!same);
        expect(await approvals.consume(approval.id, asked)).toBe(false);
      }),
      { numRuns: 60 },
    );
  });

  it('does not consume a pending, denied or unknown approval', async () => {
    const { approvals } = setup();
    const decision = await decided(transfer());
    const approval = await approvals.request(decision, spec());
    expect(await approvals.consume(approval.id, decision.action)).toBe(false);
    await approvals.decide(approval.id, { status: 'denied', by: 'alice' });
    expect(await approvals.consume(approval.id, decision.action)).toBe(false);
    expect(await approvals.consume('apr_nope', decision.action)).toBe(false);
  });

  it('lets an approved action be consumed once only, even with two Approvals over two connections racing', async () => {
    const c = clock();
    const { file, store, approvals } = setup(c);
    const other = open(file);
    const rival = new Approvals(other.approvals, other.audit, c.now);
    for (let round = 0; round < 20; round++) {
      const decision = await decided(transfer(2000 + round));
      const approval = await approvals.request(decision, spec());
      await rival.decide(approval.id, { status: 'approved', by: 'bob' });
      const results = await Promise.all([approvals.consume(approval.id, decision.action), rival.consume(approval.id, decision.action), rival.consume(approval.id, decision.action), approvals.consume(approval.id, decision.action)]);
      expect(results.filter(Boolean)).toHaveLength(1);
      expect(await approvals.consume(approval.id, decision.action)).toBe(false);
      expect((await approvals.get(approval.id))?.consumedAt).toBe(c.now().toISOString());
    }
    const consumed = (await approvalEvents(store)).filter((e) => e.event === 'consumed');
    expect(consumed).toHaveLength(20);
    expect(new Set(consumed.map((e) => e.id)).size).toBe(20);
    // Both connections appended to one chain, and it verifies.
    expect((await verifyAudit(store, { publicKey: null })).ok).toBe(true);
  });

  it('expires at the timeout (a terminal deny), refuses approving after expiry with status expired, and never reads as pending', async () => {
    const { store, approvals, clock: c } = setup();
    const decision = await decided(transfer());
    const approval = await approvals.request(decision, spec({ timeoutMs: 15 * MIN }));
    c.advance(15 * MIN - 1);
    expect((await approvals.get(approval.id))?.status).toBe('pending');
    c.advance(1);
    const expired = await approvals.get(approval.id);
    expect(expired).toMatchObject({ status: 'expired', decidedAt: '2026-03-01T12:15:00.000Z', decidedBy: null });
    const error = await errorOf(approvals.decide(approval.id, { status: 'approved', by: 'alice' }));
    expect(error).toBeInstanceOf(ApprovalClosedError);
    expect(error.code).toBe('APPROVAL_CLOSED');
    expect(error.exitCode).toBe(1);
    expect(error.message).toContain('already expired');
    expect((error as ApprovalClosedError).approval.status).toBe('expired');
    expect(await approvals.consume(approval.id, decision.action)).toBe(false);
    expect((await approvals.list({ status: 'pending' })).length).toBe(0);
    expect((await approvalEvents(store)).map((e) => e.event)).toEqual(['requested', 'expired']);
  });

  it('marks a pending approval expired when it is decided past its expiry without a sweep first (store level)', async () => {
    const { store, approvals } = setup();
    const approval = await approvals.request(await decided(transfer()), spec({ timeoutMs: MIN }));
    const after = await store.approvals.decide(approval.id, { status: 'approved', by: 'alice', at: '2026-03-01T12:01:00.000Z' });
    expect(after).toMatchObject({ status: 'expired', decidedBy: null, decidedAt: '2026-03-01T12:01:00.000Z' });
    expect(await store.approvals.decide('apr_unknown', { status: 'approved', by: 'alice', at: '2026-03-01T12:01:00.000Z' })).toBeNull();
  });

  it('records the expiry when decide itself finds the approval past its expiry, once', async () => {
    const c = clock();
    const { store } = setup(c);
    // decide sweeps (reading the clock), then reads the clock again for the decision itself. A clock that moves past
    // the expiry between the two leaves the expiry to the store's decide.
    let calls = 0;
    const jumpy = () => new Date(T0 + (calls++ >= 1 ? 10 * MIN : 0));
    const approvals = new Approvals(store.approvals, store.audit, jumpy);
    const approval = await approvals.request(await decided(transfer()), spec({ timeoutMs: 5 * MIN }));
    calls = 0;
    const error = await errorOf(approvals.decide(approval.id, { status: 'approved', by: 'alice' }));
    expect(error.code).toBe('APPROVAL_CLOSED');
    expect(error.message).toContain('already expired');
    expect((error as ApprovalClosedError).approval).toMatchObject({ status: 'expired', decidedAt: '2026-03-01T12:10:00.000Z', decidedBy: null });
    expect((await approvalEvents(store)).map((e) => e.event)).toEqual(['requested', 'expired']);
    // Asking again changes nothing and records nothing more.
    expect((await errorOf(approvals.decide(approval.id, { status: 'approved', by: 'alice' }))).code).toBe('APPROVAL_CLOSED');
    expect((await approvalEvents(store)).map((e) => e.event)).toEqual(['requested', 'expired']);
  });

  it('escalates once at escalateAt, and not after the approval closed', async () => {
    const { store, approvals, clock: c } = setup();
    const a = await approvals.request(await decided(transfer(3000)), spec({ escalateAfterMs: 5 * MIN, escalateTo: ['cfo'] }));
    const b = await approvals.request(await decided(transfer(4000)), spec({ escalateAfterMs: 5 * MIN, escalateTo: ['cfo'] }));
    const never = await approvals.request(await decided(transfer(4500)), spec());
    c.advance(5 * MIN - 1);
    expect(await approvals.sweep()).toEqual({ expired: [], escalated: [] });
    await approvals.decide(b.id, { status: 'approved', by: 'alice' });
    c.advance(1);
    const { escalated, expired } = await approvals.sweep();
    expect(expired).toEqual([]);
    expect(escalated.map((r) => r.id)).toEqual([a.id]);
    expect(escalated[0]).toMatchObject({ status: 'pending', escalatedAt: '2026-03-01T12:05:00.000Z', escalateTo: ['cfo'] });
    c.advance(MIN);
    expect((await approvals.sweep()).escalated).toEqual([]);
    expect((await approvals.get(a.id))?.escalatedAt).toBe('2026-03-01T12:05:00.000Z');
    expect((await approvals.get(never.id))?.escalatedAt).toBeNull();
    const events = await approvalEvents(store);
    expect(events.filter((e) => e.event === 'escalated').map((e) => e.id)).toEqual([a.id]);
    // Escalating does not stop the timeout.
    c.set(T0 + 15 * MIN);
    expect((await approvals.sweep()).expired.map((r) => r.id).sort()).toEqual([a.id, never.id].sort());
  });

  it('listedOnly: only a listed approver decides, escalateTo joins the list once escalated, and an empty list takes anyone', async () => {
    const { approvals, clock: c } = setup();
    const listed = await approvals.request(await decided(transfer(3000)), spec({ approvers: ['finance'], escalateAfterMs: 5 * MIN, escalateTo: ['cfo'] }));
    const open = await approvals.request(await decided(transfer(3500)), spec({ approvers: [] }));
    const refused = await errorOf(approvals.decide(listed.id, { status: 'approved', by: 'cfo', listedOnly: true }));
    expect(refused.code).toBe('APPROVER_NOT_LISTED');
    expect(refused.message).toContain('"finance"');
    expect((await approvals.get(listed.id))?.status).toBe('pending');
    // A Slack user may be listed by another of its identities.
    expect(mayDecide(listed, ['slack:U1', 'finance'])).toBe(true);
    c.advance(5 * MIN);
    await approvals.sweep();
    expect(await approvals.decide(listed.id, { status: 'denied', by: 'cfo', listedOnly: true })).toMatchObject({ status: 'denied', decidedBy: 'cfo' });
    expect(await approvals.decide(open.id, { status: 'approved', by: 'anyone', listedOnly: true })).toMatchObject({ status: 'approved' });
    // Without listedOnly (admins, the CLI on the data folder) the list is advice, not a gate.
    const admin = await approvals.request(await decided(transfer(3600)), spec({ approvers: ['finance'] }));
    expect((await approvals.decide(admin.id, { status: 'approved', by: 'root' })).status).toBe('approved');
  });

  it('refuses unknown ids, closed approvals (naming status, who and when) and a missing approver name', async () => {
    const { store, approvals, clock: c } = setup();
    const approval = await approvals.request(await decided(transfer()), spec());
    const unknown = await errorOf(approvals.decide('apr_0000', { status: 'approved', by: 'alice' }));
    expect(unknown.code).toBe('APPROVAL_NOT_FOUND');
    expect(unknown.exitCode).toBe(1);
    for (const by of ['', '   ']) {
      const noBy = await errorOf(approvals.decide(approval.id, { status: 'approved', by }));
      expect(noBy.code).toBe('APPROVAL_BY_REQUIRED');
      expect(noBy.exitCode).toBe(2);
    }
    expect((await approvals.get(approval.id))?.status).toBe('pending');
    c.advance(MIN);
    const approved = await approvals.decide(approval.id, { status: 'approved', by: ' alice ', comment: 'ok for Q1' });
    expect(approved).toMatchObject({ status: 'approved', decidedBy: 'alice', comment: 'ok for Q1', decidedAt: '2026-03-01T12:01:00.000Z' });
    // The same person again in the same millisecond is refused too, and records nothing.
    expect((await errorOf(approvals.decide(approval.id, { status: 'approved', by: 'alice', comment: 'ok for Q1' }))).code).toBe('APPROVAL_CLOSED');
    expect((await approvalEvents(store)).map((e) => e.event)).toEqual(['requested', 'approved']);
    c.advance(MIN);
    const closed = await errorOf(approvals.decide(approval.id, { status: 'denied', by: 'bob' }));
    expect(closed.code).toBe('APPROVAL_CLOSED');
    expect(closed.exitCode).toBe(1);
    expect(closed.message).toBe(`approval ${approval.id} is already approved by alice at 2026-03-01T12:01:00.000Z; it can no longer be decided`);
    expect((await approvals.get(approval.id))?.decidedBy).toBe('alice');
  });

  it('asks only for require_approval decisions: a deny rule that also matches wins without asking anyone', async () => {
    const { approvals } = setup();
    const denied = await decide({ policy }, transfer(5000, 'pay-bot', { to: 'sanctioned' }));
    expect(denied.effect).toBe('deny');
    const error = await errorOf(approvals.request(denied, spec()));
    expect(error.code).toBe('APPROVAL_NOT_REQUIRED');
    expect(await approvals.list()).toEqual([]);
  });

  it('records every change as exactly one audit entry, after it is stored, with secrets masked', async () => {
    const { store, approvals, clock: c } = setup();
    const secret = 'sk-ant-api03-abcdefghijklmnopqrstuvwxyz0123456789';
    const d1 = await decided(transfer(5000, 'pay-bot', { password: 'hunter2' }));
    const a1 = await approvals.request(d1, spec({ escalateAfterMs: MIN, escalateTo: ['cfo'] }));
    const a2 = await approvals.request(await decided(transfer(6000)), spec());
    const a3 = await approvals.request(await decided(transfer(7000)), spec({ timeoutMs: 2 * MIN }));
    const a4 = await approvals.request(await decided(transfer(8000)), spec());
    c.advance(MIN);
    await approvals.sweep(); // escalates a1
    await approvals.decide(a1.id, { status: 'approved', by: 'alice', comment: `fine, key ${secret}` });
    await approvals.decide(a2.id, { status: 'denied', by: 'bob' });
    await approvals.decide(a4.id, { status: 'cancelled', by: 'pay-bot' });
    c.advance(MIN);
    await approvals.sweep(); // expires a3
    expect(await approvals.consume(a1.id, d1.action)).toBe(true);
    expect(await approvals.consume(a1.id, d1.action)).toBe(false);
    await approvals.sweep();
    await approvals.list();
    const events = await approvalEvents(store);
    expect(events.map((e) => [e.event, e.id])).toEqual([
      ['requested', a1.id],
      ['requested', a2.id],
      ['requested', a3.id],
      ['requested', a4.id],
      ['escalated', a1.id],
      ['approved', a1.id],
      ['denied', a2.id],
      ['cancelled', a4.id],
      ['expired', a3.id],
      ['consumed', a1.id],
    ]);
    for (const { record, status, event } of events) {
      expect(record).toMatchObject({ type: 'approval', effect: null, agentId: 'pay-bot', rules: ['big-transfer'] });
      expect(record.decisionId).toBe((record.data.approval as ApprovalRecord).decisionId);
      // The entry carries the record as it was after the change.
      const expected = { requested: 'pending', escalated: 'pending', approved: 'approved', denied: 'denied', cancelled: 'cancelled', expired: 'expired', consumed: 'approved' }[event];
      expect(status).toBe(expected);
    }
    const consumed = events.at(-1)!.record.data.approval as ApprovalRecord;
    expect(consumed.consumedAt).toBe('2026-03-01T12:02:00.000Z');
    const all = JSON.stringify(await store.audit.query({ type: 'approval' }));
    expect(all).not.toContain('hunter2');
    expect(all).not.toContain(secret);
    expect(all).toContain('fine, key');
    expect((await verifyAudit(store, { publicKey: null })).ok).toBe(true);
  });

  it('keeps a pending approval across reopening the store, and still expires it on time', async () => {
    const c = clock();
    const { file, store, approvals } = setup(c);
    const approval = await approvals.request(await decided(transfer()), spec({ timeoutMs: 10 * MIN }));
    await store.close();
    const reopened = open(file);
    const again = new Approvals(reopened.approvals, reopened.audit, c.now);
    expect(await again.get(approval.id)).toEqual(approval);
    c.advance(10 * MIN);
    expect((await again.get(approval.id))?.status).toBe('expired');
  });

  it('a request racing itself over two connections stores one approval', async () => {
    const c = clock();
    const { file, approvals } = setup(c);
    const other = open(file);
    const rival = new Approvals(other.approvals, other.audit, c.now);
    const decision = await decided(transfer());
    // Both look the decision up before either stores it, as two processes would; the loser gets the winner's record.
    const [a, b] = await Promise.all([approvals.request(decision, spec()), rival.request(decision, spec())]);
    expect(b).toEqual(a);
    expect((await other.approvals.list()).length).toBe(1);
    expect((await approvalEvents(other)).map((e) => e.event)).toEqual(['requested']);
  });
});
