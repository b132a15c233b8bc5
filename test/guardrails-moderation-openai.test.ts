import { afterEach, describe, expect, it } from 'vitest';
import { AgentGuardError } from '../src/core/errors.js';
import { openAiModerationGuardrail, OPENAI_MODERATION_TYPES } from '../src/core/guardrails/moderation/openai-adapter.js';
import { startFakeModeration, type FakeModerationServer } from './fixtures/fake-moderation/server.js';

const KEY = 'sk-test-fake-key-0123456789abcdef';
const SECRET_TEXT = 'my card is 4111 1111 1111 1111 and I will stab you';

const servers: FakeModerationServer[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await server.close();
  delete process.env.AG_TEST_MODERATION_KEY;
});

async function fake(mode: Parameters<typeof startFakeModeration>[1] = 'ok') {
  const server = await startFakeModeration(KEY, mode);
  servers.push(server);
  return server;
}

/** Runs `detect` expecting a GUARDRAIL_UNAVAILABLE error that leaks neither the key nor the text. */
async function expectUnavailable(promise: unknown, messagePart: RegExp): Promise<AgentGuardError> {
  const error = await Promise.resolve(promise).then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(AgentGuardError);
  const agError = error as AgentGuardError;
  expect(agError.code).toBe('GUARDRAIL_UNAVAILABLE');
  expect(agError.message).toMatch(messagePart);
  const visible = `${agError.message} ${agError.actions.join(' ')}`;
  expect(visible).not.toContain(KEY);
  expect(visible).not.toContain('4111');
  expect(visible).not.toContain('stab you');
  return agError;
}

describe('openai-moderation adapter against a local fake of POST /v1/moderations', () => {
  it('sends model, input and the Bearer key, and maps category_scores to whole-text findings', async () => {
    const server = await fake();
    const guardrail = openAiModerationGuardrail.create({ apiKey: KEY, baseURL: server.baseURL });
    const findings = await guardrail.detect(SECRET_TEXT);
    expect(findings).toEqual([{ guardrail: 'openai-moderation', type: 'violence', start: 0, end: SECRET_TEXT.length, score: 0.93 }]);
    expect(server.requests).toHaveLength(1);
    expect(server.requests[0]).toMatchObject({
      method: 'POST',
      path: '/v1/moderations',
      authorization: `Bearer ${KEY}`,
      body: { model: 'omni-moderation-latest', input: SECRET_TEXT },
    });
  });

  it('reads the key from the named environment variable and honours model, thresholds and detect options', async () => {
    const server = await fake();
    process.env.AG_TEST_MODERATION_KEY = KEY;
    const guardrail = openAiModerationGuardrail.create({
      apiKeyEnv: 'AG_TEST_MODERATION_KEY',
      baseURL: `${server.baseURL}/`,
      model: 'text-moderation-stable',
      thresholds: { harassment: 0.99 },
    });
    const text = 'you idiot, I will hurt myself and stab someone';
    const all = await guardrail.detect(text);
    expect(all.map((f) => f.type).sort()).toEqual(['self-harm', 'violence']);
    expect(await guardrail.detect(text, { types: ['violence'] })).toHaveLength(1);
    expect(await guardrail.detect(text, { minScore: 0.95 })).toEqual([]);
    expect((server.requests[0].body as { model: string }).model).toBe('text-moderation-stable');
    expect(await guardrail.detect('a calm sentence about gardening')).toEqual([]);
  });

  it('lists the omni categories as its types', () => {
    const guardrail = openAiModerationGuardrail.create({ apiKey: KEY });
    expect(guardrail.types).toEqual(OPENAI_MODERATION_TYPES);
    expect(guardrail.maxSpanLength).toBe(Number.POSITIVE_INFINITY);
  });

  it('fails closed on a wrong key (401) without echoing the key', async () => {
    const server = await fake();
    const guardrail = openAiModerationGuardrail.create({ apiKey: 'sk-wrong-key-should-not-leak', baseURL: server.baseURL });
    const error = await expectUnavailable(guardrail.detect(SECRET_TEXT), /rejected the API key \(HTTP 401\)/);
    expect(error.message).not.toContain('sk-wrong-key-should-not-leak');
    expect(server.requests[0].authorization).toBe('Bearer sk-wrong-key-should-not-leak');
  });

  it('fails closed on HTTP 500', async () => {
    const server = await fake('error500');
    const guardrail = openAiModerationGuardrail.create({ apiKey: KEY, baseURL: server.baseURL });
    await expectUnavailable(guardrail.detect(SECRET_TEXT), /HTTP 500/);
  });

  it('fails closed on a timeout', async () => {
    const server = await fake('hang');
    const guardrail = openAiModerationGuardrail.create({ apiKey: KEY, baseURL: server.baseURL, timeoutMs: 150 });
    const started = Date.now();
    await expectUnavailable(guardrail.detect(SECRET_TEXT), /no answer within 150 ms/);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('fails closed on a body that is not JSON, and on JSON without results', async () => {
    const server = await fake('garbage');
    const guardrail = openAiModerationGuardrail.create({ apiKey: KEY, baseURL: server.baseURL });
    await expectUnavailable(guardrail.detect(SECRET_TEXT), /not JSON/);
    server.mode = 'no-results';
    await expectUnavailable(guardrail.detect(SECRET_TEXT), /category_scores/);
  });

  it('fails closed when nothing listens at baseURL', async () => {
    const server = await fake();
    const url = server.baseURL;
    await server.close();
    servers.splice(0);
    const guardrail = openAiModerationGuardrail.create({ apiKey: KEY, baseURL: url, timeoutMs: 2_000 });
    await expectUnavailable(guardrail.detect(SECRET_TEXT), /network error/);
  });

  it('refuses to be created without a key', () => {
    delete process.env.AG_TEST_MODERATION_KEY;
    expect(() => openAiModerationGuardrail.create({ apiKeyEnv: 'AG_TEST_MODERATION_KEY' })).toThrow(
      expect.objectContaining({ code: 'GUARDRAIL_UNAVAILABLE', message: expect.stringContaining('AG_TEST_MODERATION_KEY') }),
    );
  });
});
