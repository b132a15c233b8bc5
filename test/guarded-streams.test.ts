import Anthropic from '@anthropic-ai/sdk';
import fc from 'fast-check';
import OpenAI from 'openai';
import { Stream } from 'openai/streaming';
import { afterEach, describe, expect, it } from 'vitest';
import { AgentGuard, AgentGuardDeniedError, GuardedAnthropic, GuardedOpenAI, Policy } from '../src/sdk/index.js';
import { openStore } from '../src/core/store/open-store.js';
import { FAKE_ANTHROPIC_KEY, FAKE_OPENAI_KEY, startFakeAnthropic, startFakeOpenAI, type FakeScript, type FakeServer } from './fixtures/fake-providers/index.js';
import { tempDataDir } from './helpers/audit-log.js';
import type { AddressInfo } from 'node:net';
import { AuditRecorder } from '../src/core/audit/recorder.js';
import { buildSidecarApp, type Authenticate } from '../src/sidecar/app.js';

const EMAIL_RULES = [
  { id: 'models', effect: 'allow', when: { kind: 'llm' } },
  { id: 'answers', effect: 'allow', when: { kind: 'llm_output' } },
  {
    id: 'answer-emails',
    effect: 'transform',
    when: { kind: 'llm_output', detect: { guardrail: 'pii', in: 'input.content', types: ['EMAIL_ADDRESS'] } },
    transform: [{ redact: 'input.content', guardrail: 'pii', types: ['EMAIL_ADDRESS'] }],
  },
  { id: 'kb', effect: 'allow', when: { kind: 'tool', name: 'kb_search' } },
  { id: 'no-refunds', effect: 'deny', when: { kind: 'tool', name: 'refund' }, message: 'The model may not issue refunds' },
];
const EMAIL_POLICY = Policy.parse({ version: 1, name: 'stream-emails', default: 'deny', rules: EMAIL_RULES });
const SECRETS_POLICY = Policy.parse({
  version: 1,
  name: 'stream-secrets',
  default: 'deny',
  rules: [...EMAIL_RULES, { id: 'no-secrets-out', effect: 'deny', when: { kind: 'llm_output', detect: { guardrail: 'secrets', in: 'input.content' } } }],
});

const servers: FakeServer[] = [];
afterEach(async () => {
  while (servers.length > 0) await servers.pop()!.close();
});

async function openai(script: FakeScript, options: { policy?: Policy; toolCalls?: 'throw' | 'strip' | 'annotate'; restoreRedactions?: boolean; audit?: boolean } = {}) {
  const server = await startFakeOpenAI(script);
  servers.push(server);
  const dataDir = tempDataDir('ag-streams-');
  const guard = new AgentGuard({ policy: options.policy ?? EMAIL_POLICY, agentId: 'bot', dataDir, ...(options.audit === false ? { audit: false } : {}) });
  const client = new GuardedOpenAI({ apiKey: FAKE_OPENAI_KEY, baseURL: server.baseURL, maxRetries: 0, guard, toolCalls: options.toolCalls, restoreRedactions: options.restoreRedactions });
  return { server, client, guard, dataDir };
}

async function anthropic(script: FakeScript, toolCalls?: 'throw' | 'strip' | 'annotate') {
  const server = await startFakeAnthropic(script);
  servers.push(server);
  const guard = new AgentGuard({ policy: EMAIL_POLICY, agentId: 'bot', audit: false });
  const client = new GuardedAnthropic({ apiKey: FAKE_ANTHROPIC_KEY, baseURL: server.baseURL, maxRetries: 0, guard, toolCalls });
  return { server, client };
}

const chat = (content: string) => ({ model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content }], stream: true as const });
const message = (content: string) => ({ model: 'claude-opus-4-5', max_tokens: 256, messages: [{ role: 'user' as const, content }] });

type Chunk = OpenAI.Chat.Completions.ChatCompletionChunk;

async function collect<T>(stream: AsyncIterable<T>): Promise<{ chunks: T[]; error?: unknown }> {
  const chunks: T[] = [];
  try {
    for await (const chunk of stream) chunks.push(chunk);
  } catch (error) {
    return { chunks, error };
  }
  return { chunks };
}

const chatText = (chunks: Chunk[]) => chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('');

describe('GuardedOpenAI streams', () => {
  it("returns the SDK's Stream; text arrives whole; usage is recorded and its extra chunk hidden from a caller who did not ask", async () => {
    const { server, client, guard, dataDir } = await openai({ reply: { text: ['Refunds ', 'take ', 'five days.'], usage: { inputTokens: 40, outputTokens: 6 } } });
    const stream = await client.chat.completions.create(chat('how long do refunds take?'));
    expect(stream).toBeInstanceOf(Stream);
    const { chunks, error } = await collect(stream);
    expect(error).toBeUndefined();
    expect(chatText(chunks)).toBe('Refunds take five days.');
    expect(chunks.every((c) => !('usage' in c))).toBe(true);
    expect((server.requests[0]!.body as { stream_options: unknown }).stream_options).toEqual({ include_usage: true });
    await guard.close();
    const store = await openStore({ dataDir, create: false });
    const outcomes = await store.audit.query({ type: 'outcome' });
    const decisions = await store.audit.query({ type: 'decision' });
    await store.close();
    expect(outcomes[0]!.data).toMatchObject({ status: 'ok', usage: { inputTokens: 40, outputTokens: 6 } });
    expect(decisions.map((d) => (d.data as { action: { kind: string } }).action.kind).sort()).toEqual(['llm', 'llm_output']);
  });

  it('a caller who asked for usage gets the usage chunk; toReadableStream() keeps working', async () => {
    const { client } = await openai({ reply: { text: ['a', 'b'] } }, { audit: false });
    const stream = await client.chat.completions.create({ ...chat('hi'), stream_options: { include_usage: true } });
    const lines = (await new Response(stream.toReadableStream()).text()).trim().split('\n').map((l) => JSON.parse(l) as Chunk);
    expect(lines.at(-1)!.usage).toMatchObject({ prompt_tokens: 10, completion_tokens: 20 });
  });

  it('an email split across two chunks is never delivered: the caller gets the redacted text', async () => {
    const { client } = await openai({ reply: { text: ['Write to ana.lo', 'pez@example', '.com and we will reply.'] } }, { audit: false });
    const { chunks, error } = await collect(await client.chat.completions.create(chat('contact?')));
    expect(error).toBeUndefined();
    expect(chatText(chunks)).toBe('Write to <EMAIL_ADDRESS> and we will reply.');
    for (const chunk of chunks) expect(JSON.stringify(chunk)).not.toMatch(/ana\.lo|pez@|example/);
  });

  it('property: however the answer is split into chunks, what is delivered is the redacted text and no chunk holds a piece of the address', async () => {
    const { client, server } = await openai((request) => ({ reply: { text: JSON.parse((request.body as { messages: Array<{ content: string }> }).messages[0]!.content) as string[] } }), { audit: false });
    const text = 'Hello! Our agent ana.lopez@example.com answers refunds; billing@shop.example.org answers invoices. Thanks.';
    const redacted = 'Hello! Our agent <EMAIL_ADDRESS> answers refunds; <EMAIL_ADDRESS> answers invoices. Thanks.';
    await fc.assert(
      fc.asyncProperty(fc.uniqueArray(fc.integer({ min: 1, max: text.length - 1 }), { maxLength: 12 }), async (cuts) => {
        const sorted = [...cuts].sort((a, b) => a - b);
        const pieces = [0, ...sorted].map((start, i) => text.slice(start, sorted[i] ?? text.length));
        const { chunks, error } = await collect(await client.chat.completions.create(chat(JSON.stringify(pieces))));
        expect(error).toBeUndefined();
        expect(chatText(chunks)).toBe(redacted);
        for (const chunk of chunks) expect(chunk.choices[0]?.delta?.content ?? '').not.toMatch(/lopez|ana\.|billing|@|example/);
      }),
      { numRuns: 40 },
    );
    expect(server.requests.length).toBe(40);
  });

  it('a secret in the answer ends the stream with AgentGuardDeniedError before any piece of it is delivered', async () => {
    const key = 'AKIA' + 'Q3EGRIUKXN2PL7VF';
    const { client } = await openai({ reply: { text: ['Sure, the key is AK', key.slice(2, 10), key.slice(10), ' and the secret follows.'] } }, { policy: SECRETS_POLICY, audit: false });
    const { chunks, error } = await collect(await client.chat.completions.create(chat('what is the key?')));
    expect(error).toBeInstanceOf(AgentGuardDeniedError);
    expect((error as AgentGuardDeniedError).decision.reasons.map((r) => r.rule)).toContain('no-secrets-out');
    expect(chatText(chunks)).not.toMatch(/AK/);
  });

  it('tool calls in a stream: held until decided; throw ends the stream, strip removes the call, annotate marks it', async () => {
    const script = (): FakeScript => ({
      reply: { text: 'Checking.', toolCalls: [{ name: 'kb_search', arguments: ['{"q":', '"refund"}'] }, { name: 'refund', arguments: ['{"amount":', '900}'] }] },
    });
    const calls = (chunks: Chunk[]) => chunks.flatMap((c) => c.choices[0]?.delta?.tool_calls ?? []);

    const thrower = await openai(script(), { audit: false });
    const thrown = await collect(await thrower.client.chat.completions.create(chat('refund')));
    expect(thrown.error).toBeInstanceOf(AgentGuardDeniedError);
    expect(calls(thrown.chunks).some((c) => c.function?.name === 'refund' || /900/.test(c.function?.arguments ?? ''))).toBe(false);

    const stripper = await openai(script(), { toolCalls: 'strip', audit: false });
    const stripped = await collect(await stripper.client.chat.completions.create(chat('refund')));
    expect(stripped.error).toBeUndefined();
    expect(calls(stripped.chunks).map((c) => c.function?.name).filter(Boolean)).toEqual(['kb_search']);
    expect(calls(stripped.chunks).map((c) => c.function?.arguments).join('')).toBe('{"q":"refund"}');

    const annotator = await openai(script(), { toolCalls: 'annotate', audit: false });
    const annotated = await collect(await annotator.client.chat.completions.create(chat('refund')));
    const refund = calls(annotated.chunks).find((c) => c.function?.name === 'refund') as unknown as { agentguard: { effect: string; reasons: string[] } };
    expect(refund.agentguard).toMatchObject({ effect: 'deny', reasons: ['The model may not issue refunds'] });
  });

  it('a provider error inside the stream passes through unchanged and is audited as an error', async () => {
    const { client, guard, dataDir } = await openai({ reply: { text: ['partial'], streamError: true } });
    const { error } = await collect(await client.chat.completions.create(chat('hi')));
    expect(error).toBeInstanceOf(OpenAI.APIError);
    await guard.close();
    const store = await openStore({ dataDir, create: false });
    const [outcome] = await store.audit.query({ type: 'outcome' });
    await store.close();
    expect(outcome!.data).toMatchObject({ status: 'error' });
  });

  it('restoreRedactions puts the request\'s vault placeholders back in the answer, even split across chunks', async () => {
    const policy = Policy.parse({
      version: 1,
      name: 'vault',
      rules: [
        { id: 'vault-emails', effect: 'transform', when: { kind: 'llm' }, transform: [{ redact: 'input.messages', guardrail: 'pii', types: ['EMAIL_ADDRESS'], mode: 'vault' }] },
        { id: 'answers', effect: 'allow', when: { kind: 'llm_output' } },
      ],
    });
    const { client, server } = await openai([{ reply: { text: ['I wrote to <EMAIL_AD', 'DRESS_1> today.'] } }, { reply: { text: 'I wrote to <EMAIL_ADDRESS_1>.' } }], { policy, restoreRedactions: true, audit: false });
    const { chunks } = await collect(await client.chat.completions.create(chat('please write to ana.lopez@example.com')));
    expect((server.requests[0]!.body as { messages: Array<{ content: string }> }).messages[0]!.content).toBe('please write to <EMAIL_ADDRESS_1>');
    expect(chatText(chunks)).toBe('I wrote to ana.lopez@example.com today.');
    const whole = await client.chat.completions.create({ ...chat('please write to ana.lopez@example.com'), stream: false });
    expect(whole.choices[0]!.message.content).toBe('I wrote to ana.lopez@example.com.');
    expect(() => new GuardedOpenAI({ apiKey: 'x', guard: { sidecar: { url: 'http://127.0.0.1:9', token: 't' } }, restoreRedactions: true })).toThrow(/restoreRedactions needs a guard in local mode/);
  });
});

describe('GuardedAnthropic streams', () => {
  it('messages.create({ stream: true }) delivers redacted text and no piece of an address split across deltas', async () => {
    const { client } = await anthropic({ reply: { text: ['Mail ana.lo', 'pez@exam', 'ple.com please.'] } });
    const { chunks, error } = await collect(await client.messages.create({ ...message('contact?'), stream: true }));
    expect(error).toBeUndefined();
    const text = chunks.map((e) => (e.type === 'content_block_delta' && e.delta.type === 'text_delta' ? e.delta.text : '')).join('');
    expect(text).toBe('Mail <EMAIL_ADDRESS> please.');
    for (const event of chunks) expect(JSON.stringify(event)).not.toMatch(/lopez|exam/);
  });

  it('messages.stream(): events and finalMessage() carry the gated text; a stripped tool_use is removed and later blocks renumbered', async () => {
    const { client } = await anthropic(
      {
        reply: {
          text: ['Write to bob@', 'example.org.'],
          toolCalls: [{ id: 'tu1', name: 'refund', arguments: ['{"amount":', '900}'] }, { id: 'tu2', name: 'kb_search', arguments: { q: 'refund' } }],
          usage: { inputTokens: 12, outputTokens: 7 },
        },
      },
      'strip',
    );
    const stream = client.messages.stream(message('refund'));
    let streamed = '';
    stream.on('text', (delta) => (streamed += delta));
    const final = await stream.finalMessage();
    expect(streamed).toBe('Write to <EMAIL_ADDRESS>.');
    expect(final.content.map((b) => (b.type === 'tool_use' ? `${b.name}:${JSON.stringify(b.input)}` : b.type))).toEqual(['text', 'kb_search:{"q":"refund"}']);
    expect(final.content[0]).toMatchObject({ text: 'Write to <EMAIL_ADDRESS>.' });
    expect(final.usage).toMatchObject({ output_tokens: 7 });
  });

  it('a denied tool_use ends the stream (throw mode) and an in-stream provider error passes through', async () => {
    const thrower = await anthropic({ reply: { toolCalls: [{ name: 'refund', arguments: { amount: 5 } }] } });
    // MessageStream wraps errors that are not its own in an AnthropicError; the denial is its cause.
    const denied = await thrower.client.messages.stream(message('refund')).finalMessage().catch((e: unknown) => e);
    expect((denied as Error).cause).toBeInstanceOf(AgentGuardDeniedError);
    const direct = await collect(await thrower.client.messages.create({ ...message('refund'), stream: true }));
    expect(direct.error).toBeInstanceOf(AgentGuardDeniedError);
    expect(direct.chunks.some((e) => e.type === 'content_block_start')).toBe(false);
    const failing = await anthropic({ reply: { text: ['partial'], streamError: true } });
    const { error } = await collect(await failing.client.messages.create({ ...message('hi'), stream: true }));
    expect(error).toBeInstanceOf(Anthropic.APIError);
  });
});

describe('guarded streams in sidecar mode', () => {
  const TOKEN = 'stream-bot-token-0123456789';
  const authenticate: Authenticate = async (header) =>
    header === `Bearer ${TOKEN}` ? { ok: true, token: { id: 'tok_bot', scope: { kind: 'agent', agentId: 'bot' } } } : { ok: false, reason: 'unknown' };

  it('windows are previewed by the sidecar (nothing recorded for them), the answer decided once; text flows before the end, and a sidecar gone mid-stream ends it denied', async () => {
    const dataDir = tempDataDir('ag-streams-sidecar-');
    const recorder = await AuditRecorder.open({ dataDir, checkpointIntervalMs: 0 });
    const app = await buildSidecarApp({ policy: EMAIL_POLICY, recorder, dataDir, authenticate });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    const words = Array.from({ length: 80 }, (_, i) => `w${i} `);
    const server = await startFakeOpenAI([
      { reply: { text: ['Mail ana.lo', 'pez@example.com now.'] } },
      { reply: { text: words, delayMs: 3 } },
    ]);
    servers.push(server);
    const client = new GuardedOpenAI({ apiKey: FAKE_OPENAI_KEY, baseURL: server.baseURL, maxRetries: 0, guard: { sidecar: { url, token: TOKEN }, timeoutMs: 500 } });
    try {
      const { chunks, error } = await collect(await client.chat.completions.create(chat('contact?')));
      expect(error).toBeUndefined();
      expect(chatText(chunks)).toBe('Mail <EMAIL_ADDRESS> now.');
      const kinds = (await recorder.store.audit.query({ type: 'decision', order: 'asc' })).map((r) => (r.data as { action: { kind: string } }).action.kind);
      expect(kinds).toEqual(['llm', 'llm_output']);

      const stream = await client.chat.completions.create(chat('talk'));
      let delivered = '';
      let error2: unknown;
      try {
        for await (const chunk of stream) {
          delivered += chunk.choices[0]?.delta?.content ?? '';
          if (delivered.length > 0 && app.server.listening) await app.close();
        }
      } catch (e) {
        error2 = e;
      }
      expect(error2).toBeInstanceOf(AgentGuardDeniedError);
      expect((error2 as AgentGuardDeniedError).decision.reasons[0]).toMatchObject({ code: 'sidecar_unavailable' });
      expect(delivered.length).toBeLessThan(words.join('').length);
    } finally {
      await app.close();
      await recorder.close().catch(() => undefined);
    }
  });
});
