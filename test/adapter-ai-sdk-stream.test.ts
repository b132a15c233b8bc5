import fc from 'fast-check';
import { simulateReadableStream, streamText, wrapLanguageModel } from 'ai';
import { MockLanguageModelV4 } from 'ai/test';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentguardMiddleware } from '../src/adapters/ai-sdk/index.js';
import { AuditRecorder } from '../src/core/audit/recorder.js';
import { buildSidecarApp, type Authenticate } from '../src/sidecar/app.js';
import { AgentGuard, AgentGuardDeniedError } from '../src/sdk/index.js';
import { ADAPTER_POLICY, warmGuardrails } from './fixtures/adapters/policy.js';
import { FAKE_OPENAI_KEY, startFakeOpenAI } from './fixtures/fake-providers/index.js';
import { tempDataDir } from './helpers/audit-log.js';
import { createOpenAI } from '@ai-sdk/openai';
import { generateText } from 'ai';

beforeAll(warmGuardrails, 60_000);

const TEXT = 'Write to alice@example.com or bob@example.org, we answer within a day.';
const USAGE = { inputTokens: { total: 5, noCache: 5, cacheRead: 0, cacheWrite: 0 }, outputTokens: { total: 9, text: 9, reasoning: 0 } };

/** The AI SDK's own mock model streaming `pieces` as text deltas (and the same text as reasoning, on its own channel). */
function mockModel(pieces: string[]) {
  const parts = [
    { type: 'stream-start' as const, warnings: [] },
    { type: 'reasoning-start' as const, id: 'r' },
    ...pieces.map((delta) => ({ type: 'reasoning-delta' as const, id: 'r', delta })),
    { type: 'reasoning-end' as const, id: 'r' },
    { type: 'text-start' as const, id: 't' },
    ...pieces.map((delta) => ({ type: 'text-delta' as const, id: 't', delta })),
    { type: 'text-end' as const, id: 't' },
    { type: 'finish' as const, usage: USAGE, finishReason: { unified: 'stop' as const, raw: 'stop' } },
  ];
  return new MockLanguageModelV4({ provider: 'openai.chat', modelId: 'gpt-4o-mini', doStream: async () => ({ stream: simulateReadableStream({ chunks: parts }) }) });
}

/** Cuts `text` at the given offsets (sorted, deduplicated) into the pieces a provider might stream. */
function split(text: string, cuts: number[]): string[] {
  const at = [...new Set(cuts.map((c) => c % text.length))].sort((a, b) => a - b);
  const pieces: string[] = [];
  let from = 0;
  for (const cut of at) {
    if (cut > from) pieces.push(text.slice(from, cut));
    from = Math.max(from, cut);
  }
  pieces.push(text.slice(from));
  return pieces;
}

describe('agentguardMiddleware streams (property)', () => {
  const guard = new AgentGuard({ policy: ADAPTER_POLICY, agentId: 'bot', audit: false });
  afterAll(() => guard.close());

  it('however the answer is cut into deltas, no piece of an e-mail address reaches the caller, text or reasoning, and the text arrives whole', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 1, max: TEXT.length - 1 }), { maxLength: 12 }), async (cuts) => {
        const model = wrapLanguageModel({ model: mockModel(split(TEXT, cuts)), middleware: agentguardMiddleware({ guard }) });
        const result = streamText({ model, prompt: 'contact?' });
        const seen: string[] = [];
        for await (const part of result.fullStream) {
          if (part.type === 'text-delta' || part.type === 'reasoning-delta') seen.push(part.text);
        }
        const all = seen.join('');
        expect(all).not.toMatch(/alice|bob@|example\.(com|org)/);
        expect(await result.text).toBe('Write to <EMAIL_ADDRESS> or <EMAIL_ADDRESS>, we answer within a day.');
      }),
      { numRuns: 40 },
    );
  });
});

describe('agentguardMiddleware in sidecar mode', () => {
  const TOKEN = 'ai-sdk-bot-token-0123456789';
  const authenticate: Authenticate = async (header) => (header === `Bearer ${TOKEN}` ? { ok: true, token: { id: 'tok_bot', scope: { kind: 'agent', agentId: 'bot' } } } : { ok: false, reason: 'unknown' });
  let app: Awaited<ReturnType<typeof buildSidecarApp>>;
  let recorder: AuditRecorder;
  let url: string;
  beforeAll(async () => {
    const dataDir = tempDataDir('ag-ai-sdk-sidecar-');
    recorder = await AuditRecorder.open({ dataDir, checkpointIntervalMs: 0 });
    app = await buildSidecarApp({ policy: ADAPTER_POLICY, recorder, dataDir, authenticate });
    await app.listen({ port: 0, host: '127.0.0.1' });
    url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await app.close();
    await recorder.close();
  });

  it('the sidecar decides: a redacted request is what is sent, a denied one is never sent, the framework is named in its audit trail', async () => {
    const server = await startFakeOpenAI({ reply: { text: 'ok' } });
    const guard = new AgentGuard({ sidecar: { url, token: TOKEN } });
    try {
      const model = wrapLanguageModel({ model: createOpenAI({ apiKey: FAKE_OPENAI_KEY, baseURL: server.baseURL }).chat('gpt-4o-mini'), middleware: agentguardMiddleware({ guard }) });
      expect((await generateText({ model, prompt: 'I am bob@example.org' })).text).toBe('ok');
      expect(JSON.stringify(server.requests[0]!.body)).not.toContain('bob@example.org');
      const denied = await generateText({ model, prompt: `key ghp_${'a1B2c3D4e5'.repeat(3)}123456` }).catch((e: unknown) => e);
      expect(denied).toBeInstanceOf(AgentGuardDeniedError);
      expect(server.requests).toHaveLength(1);
      const decisions = await recorder.store.audit.query({ type: 'decision', order: 'asc' });
      expect(decisions.map((d) => (d.data as { action: { kind: string; context?: { framework?: string } } }).action)).toEqual([
        expect.objectContaining({ kind: 'llm', context: expect.objectContaining({ framework: 'ai-sdk' }) }),
        expect.objectContaining({ kind: 'llm_output' }),
        expect.objectContaining({ kind: 'llm', context: expect.objectContaining({ framework: 'ai-sdk' }) }),
      ]);
    } finally {
      await guard.close();
      await server.close();
    }
  });
});
