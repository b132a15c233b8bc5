import { rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openStore } from '../src/core/store/open-store.js';
import { AgentGuard, AgentGuardDeniedError, GuardedOpenAI, Policy } from '../src/sdk/index.js';
import { FAKE_OPENAI_KEY, startFakeOpenAI, type FakeScript, type FakeServer } from './fixtures/fake-providers/index.js';
import { tempDataDir } from './helpers/audit-log.js';

const POLICY = Policy.parse({
  version: 1,
  name: 'denied-answers',
  default: 'deny',
  rules: [
    { id: 'models', effect: 'allow', when: { kind: 'llm', name: 'openai.gpt-4o-mini' } },
    { id: 'answers', effect: 'allow', when: { kind: 'llm_output' } },
    { id: 'no-internal', effect: 'deny', when: { kind: 'llm_output', 'input.content.*': { regex: 'INTERNAL' } } },
    { id: 'answer-emails', effect: 'transform', when: { kind: 'llm_output', detect: { guardrail: 'pii', in: 'input.content', types: ['EMAIL_ADDRESS'] } }, transform: [{ redact: 'input.content', guardrail: 'pii', types: ['EMAIL_ADDRESS'] }] },
  ],
});

const ANSWER = 'INTERNAL memo: write to ana.lopez@example.com about the refund';

const servers: FakeServer[] = [];
const dirs: string[] = [];
afterEach(async () => {
  while (servers.length > 0) await servers.pop()!.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function setup(script: FakeScript) {
  const server = await startFakeOpenAI(script);
  servers.push(server);
  const dataDir = tempDataDir('ag-denied-answers-');
  dirs.push(dirname(dataDir));
  const guard = new AgentGuard({ policy: POLICY, agentId: 'bot', dataDir });
  const client = new GuardedOpenAI({ apiKey: FAKE_OPENAI_KEY, baseURL: server.baseURL, maxRetries: 0, guard });
  return { client, guard, dataDir };
}

async function storedAnswers(guard: AgentGuard, dataDir: string): Promise<Array<{ effect: string | null; data: string }>> {
  await guard.close();
  const store = await openStore({ dataDir, create: false });
  const decisions = await store.audit.query({ type: 'decision', order: 'asc' });
  await store.close();
  return decisions.filter((d) => (d.data as { action: { kind: string } }).action.kind === 'llm_output').map((d) => ({ effect: d.effect, data: JSON.stringify(d.data) }));
}

const ask = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: 'memo?' }] };

describe('a denied answer is stored with the policy\'s redactions applied', () => {
  it('whole answer: denied, and its record holds <EMAIL_ADDRESS>, not the address', async () => {
    const { client, guard, dataDir } = await setup({ reply: { text: ANSWER } });
    await expect(client.chat.completions.create(ask)).rejects.toBeInstanceOf(AgentGuardDeniedError);
    const [answer] = await storedAnswers(guard, dataDir);
    expect(answer.effect).toBe('deny');
    expect(answer.data).toContain('<EMAIL_ADDRESS>');
    expect(answer.data).not.toContain('ana.lopez@example.com');
  });

  it('streamed answer: the same, for the decision the stream gate records at the end', async () => {
    const { client, guard, dataDir } = await setup({ reply: { text: ['INTERNAL memo: write to ana.lopez', '@example.com about the refund'] } });
    const stream = await client.chat.completions.create({ ...ask, stream: true });
    await expect((async () => {
      for await (const chunk of stream) void chunk;
    })()).rejects.toBeInstanceOf(AgentGuardDeniedError);
    await guard.close();
    const store = await openStore({ dataDir, create: false });
    const records = await store.audit.query({});
    await store.close();
    expect(records.length).toBeGreaterThan(0);
    // The window that cut the stream is recorded as it was judged: it ends in half an address (no guardrail can find
    // it), never the whole one.
    for (const record of records) expect(JSON.stringify(record.data)).not.toContain('ana.lopez@example.com');
    expect(records.some((r) => r.type === 'decision' && r.effect === 'deny' && (r.data as { action: { kind: string } }).action.kind === 'llm_output')).toBe(true);
  });

  it('an allowed answer is stored as it was delivered (redacted by the transform)', async () => {
    const { client, guard, dataDir } = await setup({ reply: { text: 'write to ana.lopez@example.com' } });
    expect((await client.chat.completions.create(ask)).choices[0].message.content).toBe('write to <EMAIL_ADDRESS>');
    const [answer] = await storedAnswers(guard, dataDir);
    expect(answer.effect).toBe('transform');
    expect(answer.data).not.toContain('ana.lopez@example.com');
  });

  it('the policy engine keeps the decision itself unchanged (the caller sees what it sent)', () => {
    const decision = POLICY.evaluate({ kind: 'llm_output', name: 'openai.gpt-4o-mini', input: { content: [ANSWER] } });
    expect(decision.effect).toBe('deny');
    expect((decision.action.input as { content: string[] }).content[0]).toBe(ANSWER);
  });
});
