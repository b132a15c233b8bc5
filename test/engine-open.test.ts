import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import type { Action } from '../src/core/action.js';
import { AuditRecorder } from '../src/core/audit/recorder.js';
import { withAgentId } from '../src/core/engine/agent-id.js';
import { openEngine, type Engine } from '../src/core/engine/open-engine.js';
import { loadOrCreateRedactionKey, REDACTION_KEY_ENV } from '../src/core/guardrails/redaction-key.js';
import { Policy } from '../src/core/policy/policy.js';
import { makeTempDir } from './helpers/temp-dirs.js';

const POLICY = `version: 1
name: engine
rules:
  - { id: kb, effect: allow, when: { name: { glob: "kb.*" } } }
  - { id: own, effect: allow, when: { name: report.read, agent.id: bot } }
  - id: hash-emails
    effect: transform
    when: { name: email.send }
    transform: [ { redact: input.body, guardrail: pii, types: [EMAIL_ADDRESS], mode: hash } ]
  - { id: big, effect: require_approval, when: { name: payments.transfer, input.amount: { gt: 100 } } }
`;
const EMAIL: Action = { kind: 'tool', name: 'email.send', input: { body: 'to ann@example.com' } };

const open: Engine[] = [];
async function engine(options: Parameters<typeof openEngine>[0]): Promise<Engine> {
  const e = await openEngine(options);
  open.push(e);
  return e;
}
afterEach(async () => {
  for (const e of open.splice(0)) await e.close();
});

const policy = async () => Policy.parse(POLICY);

describe('openEngine', () => {
  it('record: false writes nothing, creates no key, and still transforms with hash redaction', async () => {
    const dataDir = join(makeTempDir('ag-engine-'), 'data');
    const e = await engine({ policy: await policy(), record: false, dataDir });
    const decision = await e.decide(EMAIL);
    expect(decision.effect).toBe('transform');
    expect((decision.action.input as { body: string }).body).not.toContain('ann@example.com');
    expect(e.recorder).toBeUndefined();
    expect(e.approvals).toBeUndefined();
    expect(e.cost).toBeUndefined();
    const approval = await e.decide({ kind: 'tool', name: 'payments.transfer', input: { amount: 500 } });
    expect(approval.effect).toBe('require_approval');
    expect(approval.approval).toBeUndefined();
    expect(existsSync(dataDir)).toBe(false);
  });

  it('record: false reads the folder\'s redaction key, so hash tokens equal those of the recording engine', async () => {
    const dataDir = join(makeTempDir('ag-engine-'), 'data');
    loadOrCreateRedactionKey(dataDir);
    const reading = await engine({ policy: await policy(), record: false, dataDir });
    const recording = await engine({ policy: await policy(), record: true, dataDir });
    const a = await reading.decide(EMAIL);
    const b = await recording.decide(EMAIL);
    expect(a.action).toEqual(b.action);
    expect(readdirSync(join(dataDir, 'keys'))).toContain('redaction.key');
  });

  it('record: false takes $AGENTGUARD_REDACTION_KEY first, and refuses an invalid one by denying', async () => {
    const saved = process.env[REDACTION_KEY_ENV];
    try {
      process.env[REDACTION_KEY_ENV] = 'a'.repeat(64);
      const fromEnv = await (await engine({ policy: await policy(), record: false })).decide(EMAIL);
      const again = await (await engine({ policy: await policy(), record: false })).decide(EMAIL);
      expect(fromEnv.effect).toBe('transform');
      expect(fromEnv.action).toEqual(again.action); // the same key, not a fresh in-memory one each time
      process.env[REDACTION_KEY_ENV] = 'short';
      expect((await (await engine({ policy: await policy(), record: false })).decide(EMAIL)).effect).toBe('deny');
    } finally {
      if (saved === undefined) delete process.env[REDACTION_KEY_ENV];
      else process.env[REDACTION_KEY_ENV] = saved;
    }
  });

  it('record: true needs a data folder', async () => {
    await expect(openEngine({ policy: await policy(), record: true })).rejects.toThrow(/needs `dataDir`/);
  });

  it('records decisions and answers, creates approvals, and closes only the recorder it opened', async () => {
    const dataDir = join(makeTempDir('ag-engine-'), 'data');
    const given = await AuditRecorder.open({ dataDir });
    try {
      const e = await openEngine({ policy: await policy(), record: true, dataDir, recorder: given, agentId: 'bot' });
      const approval = await e.decide({ kind: 'tool', name: 'payments.transfer', input: { amount: 500 } });
      expect(approval.approval?.id).toMatch(/^apr_/);
      expect((await e.approvals!.get(approval.approval!.id))?.status).toBe('pending');
      const before = await given.store.audit.count();
      const answer = e.answer();
      const first = await answer.decide({ kind: 'tool', name: 'kb.search' });
      await answer.decide({ kind: 'tool', name: 'kb.read' });
      expect(await given.store.audit.count()).toBe(before); // not recorded until commit
      await answer.commit(first, { status: 'ok' });
      expect(await given.store.audit.count()).toBe(before + 3); // two decisions and the outcome
      await e.close();
      await given.append([]); // still open: the engine did not close a recorder it was given
    } finally {
      await given.close();
    }
  });

  it('decides with the policy in force: a getter, or setPolicy', async () => {
    let current = await policy();
    const e = await engine({ policy: () => current, record: false });
    expect((await e.decide({ kind: 'tool', name: 'kb.search' })).effect).toBe('allow');
    current = Policy.parse('version: 1\nname: closed\nrules: []\n');
    expect((await e.decide({ kind: 'tool', name: 'kb.search' })).effect).toBe('deny');
    e.setPolicy(await policy());
    expect(e.policy.name).toBe('engine');
    expect((await e.decide({ kind: 'tool', name: 'kb.search' })).effect).toBe('allow');
  });

  it('fills in the agent id once: the engine\'s, a call\'s own, never over one the action names; explain sees it', async () => {
    const e = await engine({ policy: await policy(), record: false, agentId: 'bot' });
    const read: Action = { kind: 'tool', name: 'report.read' };
    expect((await e.decide(read)).action.agent?.id).toBe('bot');
    expect((await e.decide(read, { agentId: 'other' })).effect).toBe('deny');
    expect((await e.decide({ ...read, agent: { id: 'bot' } }, { agentId: 'other' })).effect).toBe('allow');
    expect(e.explain(read).find((t) => t.id === 'own')?.matched).toBe(true);
    expect((await e.preview(read)).decision.action.agent?.id).toBe('bot');
  });
});

describe('withAgentId', () => {
  it('puts the id only on actions that name no agent, and never changes the given action', () => {
    const agent = fc.option(fc.record({ id: fc.option(fc.string({ minLength: 1 }), { nil: undefined }), role: fc.option(fc.string(), { nil: undefined }) }), { nil: undefined });
    fc.assert(
      fc.property(agent, fc.string({ minLength: 1 }), fc.string({ minLength: 1 }), (given, name, id) => {
        const action = { kind: 'tool', name, ...(given ? { agent: given } : {}) } as Action;
        const copy = structuredClone(action);
        const result = withAgentId(action, id);
        expect(action).toEqual(copy);
        if (given?.id) expect(result).toBe(action);
        else expect(result).toEqual({ ...action, agent: { ...(given ?? {}), id } });
      }),
    );
  });
});
