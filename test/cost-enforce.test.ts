import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { openStore } from '../src/core/store/open-store.js';
import { AgentGuard, AgentGuardDeniedError, GuardedAnthropic, GuardedOpenAI, Policy } from '../src/sdk/index.js';
import { FAKE_ANTHROPIC_KEY, FAKE_OPENAI_KEY, startFakeAnthropic, startFakeOpenAI, type FakeScript, type FakeServer } from './fixtures/fake-providers/index.js';
import { tempDataDir } from './helpers/audit-log.js';

const POLICY = Policy.parse({
  version: 1,
  name: 'cost',
  rules: [
    { id: 'llm', effect: 'allow', when: { kind: { in: ['llm', 'llm_output'] } } },
  ],
});

const servers: FakeServer[] = [];
const closers: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (servers.length > 0) await servers.pop()!.close();
  for (const close of closers.splice(0)) await close();
  vi.restoreAllMocks();
});

async function openai(script: FakeScript, cost: Record<string, unknown>) {
  const server = await startFakeOpenAI(script);
  servers.push(server);
  const dataDir = tempDataDir('ag-cost-');
  const guard = new AgentGuard({ policy: POLICY, agentId: 'bot', dataDir, cost });
  closers.push(() => guard.close());
  const client = new GuardedOpenAI({ apiKey: FAKE_OPENAI_KEY, baseURL: server.baseURL, maxRetries: 0, guard });
  return { server, client, guard, dataDir };
}

async function ledger(dataDir: string, guard: AgentGuard) {
  await guard.close();
  const store = await openStore({ dataDir, create: false });
  try {
    return { entries: await store.cost.ledger({}), alerts: await store.audit.query({ type: 'alert' }) };
  } finally {
    await store.close();
  }
}

const chat = (content: string, max_tokens = 100) => ({ model: 'gpt-4o', messages: [{ role: 'user' as const, content }], max_tokens });

describe('cost ledger and budgets through the guarded clients', () => {
  it('prices each call from the usage the provider reported (OpenAI cached tokens apart), streams included', async () => {
    // gpt-4o: input $2.50/M, cached input $1.25/M, output $10/M.
    const { client, guard, dataDir } = await openai(
      [
        { reply: { text: 'ok', usage: { inputTokens: 1_000, outputTokens: 200, cachedInputTokens: 400 } } },
        { reply: { text: ['str', 'eam'], usage: { inputTokens: 300, outputTokens: 50 } } },
      ],
      {},
    );
    await client.chat.completions.create(chat('hi'));
    for await (const _ of await client.chat.completions.create({ ...chat('hi'), stream: true })) void _;
    const { entries } = await ledger(dataDir, guard);
    expect(entries).toHaveLength(2);
    // 600 × 2.5e-6 + 400 × 1.25e-6 + 200 × 1e-5 = 0.0015 + 0.0005 + 0.002 = $0.004
    expect(entries[0]).toMatchObject({ provider: 'openai', model: 'gpt-4o', costNano: 4_000_000, estimated: false, priced: 'exact', scope: { agent: 'bot' } });
    expect(entries[0]!.tokens).toMatchObject({ inputTokens: 600, cacheReadInputTokens: 400, outputTokens: 200 });
    // 300 × 2.5e-6 + 50 × 1e-5 = 0.00075 + 0.0005 = $0.00125
    expect(entries[1]).toMatchObject({ costNano: 1_250_000, estimated: false });
  });

  it('Anthropic: cache reads and cache writes are priced apart from input', async () => {
    const server = await startFakeAnthropic({ reply: { text: 'ok', usage: { inputTokens: 100, outputTokens: 10, cachedInputTokens: 2_000, cacheCreationInputTokens: 1_000 } } });
    servers.push(server);
    const dataDir = tempDataDir('ag-cost-anthropic-');
    const guard = new AgentGuard({ policy: POLICY, agentId: 'bot', dataDir, cost: {} });
    const client = new GuardedAnthropic({ apiKey: FAKE_ANTHROPIC_KEY, baseURL: server.baseURL, maxRetries: 0, guard });
    await client.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 50, messages: [{ role: 'user', content: 'hi' }] });
    const { entries } = await ledger(dataDir, guard);
    // claude-sonnet-4-5: input $3/M, output $15/M, cache read $0.30/M, 5-minute cache write $3.75/M:
    // 100 × 3e-6 + 10 × 1.5e-5 + 2000 × 3e-7 + 1000 × 3.75e-6 = 0.0003 + 0.00015 + 0.0006 + 0.00375 = $0.0048
    expect(entries[0]).toMatchObject({ provider: 'anthropic', costNano: 4_800_000, priced: 'exact' });
  });

  it('a global budget is never overspent: calls are denied before sending once the most they can cost does not fit', async () => {
    // Each call may cost at most (prompt bound × $2.50/M) + 100 × $10/M ≈ $0.0011; the limit allows a few.
    const { server, client, guard, dataDir } = await openai(
      { reply: { text: 'ok', usage: { inputTokens: 20, outputTokens: 100 } } },
      { budgets: [{ scope: 'global', period: 'total', limitUsd: 0.005 }] },
    );
    let allowed = 0;
    let denied: AgentGuardDeniedError | undefined;
    for (let i = 0; i < 10; i++) {
      try {
        await client.chat.completions.create(chat(`question ${i}`));
        allowed++;
      } catch (error) {
        denied = error as AgentGuardDeniedError;
        break;
      }
    }
    expect(allowed).toBeGreaterThan(2);
    expect(denied).toBeInstanceOf(AgentGuardDeniedError);
    expect(denied!.decision.reasons.at(-1)).toMatchObject({ code: 'budget_exceeded' });
    expect(denied!.decision.reasons.at(-1)!.message).toMatch(/budget "global:total" has \$0\.\d+ spent and \$0\.\d+ in flight of \$0\.005/);
    expect(server.requests).toHaveLength(allowed);
    const { entries, alerts } = await ledger(dataDir, guard);
    const spent = entries.reduce((n, e) => n + e.costNano, 0);
    expect(spent).toBeLessThanOrEqual(5_000_000);
    expect(entries).toHaveLength(allowed);
    // 20 × 2.5e-6 + 100 × 1e-5 = $0.00105 per call; thresholds 50% and 80% were crossed once each.
    expect(spent).toBe(allowed * 1_050_000);
    expect(alerts.map((a) => (a.data as { threshold: number }).threshold).sort()).toEqual([0.5, 0.8]);
  });

  it('concurrent calls against one budget never commit more than the limit', async () => {
    const { client, guard, dataDir } = await openai(
      { reply: { text: 'ok', usage: { inputTokens: 20, outputTokens: 100 }, delayMs: 1 } },
      { budgets: [{ scope: 'agent', period: 'day', limitUsd: 0.01, timezone: 'Europe/Berlin' }] },
    );
    const results = await Promise.allSettled(Array.from({ length: 30 }, (_, i) => client.chat.completions.create(chat(`q${i}`))));
    const ok = results.filter((r) => r.status === 'fulfilled').length;
    expect(ok).toBeGreaterThan(0);
    expect(results.filter((r) => r.status === 'rejected').every((r) => (r as PromiseRejectedResult).reason instanceof AgentGuardDeniedError)).toBe(true);
    const { entries } = await ledger(dataDir, guard);
    expect(entries.reduce((n, e) => n + e.costNano, 0)).toBeLessThanOrEqual(10_000_000);
    expect(entries).toHaveLength(ok);
  });

  it('unknown models: denied under a budget by default, priced as the fallback, or allowed with a warning', async () => {
    const budget = { budgets: [{ scope: 'global', period: 'month', limitUsd: 10 }] };
    const unknown = { model: 'gpt-made-up', messages: [{ role: 'user' as const, content: 'hi' }], max_tokens: 10 };
    const deny = await openai({ reply: { text: 'ok', usage: { inputTokens: 10, outputTokens: 10 } } }, budget);
    const error = await deny.client.chat.completions.create(unknown).catch((e: unknown) => e);
    expect((error as AgentGuardDeniedError).decision.reasons.at(-1)).toMatchObject({ code: 'unknown_model_price' });
    expect(deny.server.requests).toHaveLength(0);

    const fallback = await openai({ reply: { text: 'ok', usage: { inputTokens: 1_000, outputTokens: 0 } } }, { ...budget, unknownModels: { fallback: 'openai/gpt-4o' } });
    await fallback.client.chat.completions.create(unknown);
    const priced = await ledger(fallback.dataDir, fallback.guard);
    expect(priced.entries[0]).toMatchObject({ priced: 'fallback', costNano: 2_500_000 });

    const warnings = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    const warn = await openai({ reply: { text: 'ok', usage: { inputTokens: 10, outputTokens: 10 } } }, { ...budget, unknownModels: 'warn' });
    await warn.client.chat.completions.create(unknown);
    const unpriced = await ledger(warn.dataDir, warn.guard);
    expect(unpriced.entries[0]).toMatchObject({ priced: 'unpriced', costNano: 0 });
    expect(warnings.mock.calls.some(([message]) => /no price for openai\.gpt-made-up/.test(String(message)))).toBe(true);
  });

  it('a stream the caller leaves early is still priced, from an estimate, and marked estimated', async () => {
    const { client, guard, dataDir } = await openai({ reply: { text: Array.from({ length: 40 }, (_, i) => `word${i} `), usage: { inputTokens: 10, outputTokens: 80 } } }, {});
    for await (const chunk of await client.chat.completions.create({ ...chat('talk'), stream: true })) {
      if (chunk.choices[0]?.delta?.content) break;
    }
    const { entries } = await ledger(dataDir, guard);
    expect(entries[0]).toMatchObject({ estimated: true });
    expect(entries[0]!.tokens.inputTokens).toBeGreaterThan(0);
    expect(entries[0]!.costNano).toBeGreaterThan(0);
  });

  it('alerts are posted once per period to the webhook, as generic JSON with a Slack-compatible text', async () => {
    const received: Array<Record<string, unknown>> = [];
    const hook: Server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        received.push(JSON.parse(body));
        res.end();
      });
    });
    await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve));
    closers.push(() => new Promise((resolve) => hook.close(resolve)));
    const webhook = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/hook`;
    const { client, guard } = await openai(
      { reply: { text: 'ok', usage: { inputTokens: 0, outputTokens: 300 } } },
      { budgets: [{ name: 'team', scope: 'global', period: 'month', limitUsd: 0.01, alertAt: [0.25], webhook }] },
    );
    await client.chat.completions.create(chat('a', 400)); // $0.003: 30%
    await client.chat.completions.create(chat('b', 400)); // $0.006: still one alert for 25%
    await guard.close();
    await vi.waitFor(() => expect(received).toHaveLength(1));
    expect(received[0]).toMatchObject({ type: 'agentguard.budget_alert', budget: 'team', threshold: 0.25, limitUsd: 0.01 });
    expect(received[0]!.text).toMatch(/budget "team" reached 25%/);
  });

  it('bad cost config is a clear error naming the field', async () => {
    const guard = new AgentGuard({ policy: POLICY, agentId: 'bot', dataDir: tempDataDir('ag-cost-bad-'), cost: { budgets: [{ scope: 'global', period: 'fortnight', limitUsd: 5 }] } });
    closers.push(() => guard.close().catch(() => undefined));
    await expect(guard.decide({ kind: 'llm', name: 'openai.gpt-4o' })).rejects.toThrow(/cost\.budgets\[0\]\.period must be one of day, week, month, total/);
  });
});
