import Anthropic from '@anthropic-ai/sdk';
import fc from 'fast-check';
import OpenAI, { AzureOpenAI } from 'openai';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  azureContentFilterError,
  FAKE_ANTHROPIC_KEY,
  FAKE_AZURE_KEY,
  FAKE_OPENAI_KEY,
  startFakeAnthropic,
  startFakeAzureOpenAI,
  startFakeOpenAI,
  type FakeServer,
  type FakeStep,
} from './fixtures/fake-providers/index.js';

type OpenAIAPIError = InstanceType<typeof OpenAI.APIError>;
type AnthropicAPIError = InstanceType<typeof Anthropic.APIError>;

const servers: FakeServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function track(server: Promise<FakeServer>): Promise<FakeServer> {
  const started = await server;
  servers.push(started);
  return started;
}

const openai = (fake: FakeServer, apiKey = FAKE_OPENAI_KEY) => new OpenAI({ apiKey, baseURL: fake.baseURL, maxRetries: 0 });
const anthropic = (fake: FakeServer, apiKey = FAKE_ANTHROPIC_KEY) => new Anthropic({ apiKey, baseURL: fake.baseURL, maxRetries: 0 });
const azure = (fake: FakeServer, deployment = 'gpt-4o-prod', apiKey = FAKE_AZURE_KEY) =>
  new AzureOpenAI({ apiKey, endpoint: fake.url, apiVersion: '2024-10-21', deployment, maxRetries: 0 });

const USER = [{ role: 'user' as const, content: 'What is the weather in Paris?' }];
const WEATHER_TOOL = {
  type: 'function' as const,
  function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } },
};

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to fail');
}

describe('fake OpenAI: chat completions', () => {
  it('answers a JSON request with text, usage with cached tokens, and records the request', async () => {
    const fake = await track(startFakeOpenAI({ reply: { text: 'Sunny, 21°C.', usage: { inputTokens: 42, outputTokens: 7, cachedInputTokens: 32 } } }));
    const completion = await openai(fake).chat.completions.create({ model: 'gpt-4o-mini', messages: USER, temperature: 0 });

    expect(completion.object).toBe('chat.completion');
    expect(completion.model).toBe('gpt-4o-mini');
    expect(completion.choices[0].message).toMatchObject({ role: 'assistant', content: 'Sunny, 21°C.' });
    expect(completion.choices[0].finish_reason).toBe('stop');
    expect(completion.usage).toMatchObject({ prompt_tokens: 42, completion_tokens: 7, total_tokens: 49, prompt_tokens_details: { cached_tokens: 32 } });

    expect(fake.requests).toHaveLength(1);
    const [request] = fake.requests;
    expect(request).toMatchObject({ method: 'POST', path: '/v1/chat/completions', query: {}, aborted: false });
    expect(request.headers.authorization).toBe(`Bearer ${FAKE_OPENAI_KEY}`);
    expect(request.body).toEqual({ model: 'gpt-4o-mini', messages: USER, temperature: 0 });
  });

  it('answers with tool calls and finish_reason tool_calls', async () => {
    const fake = await track(startFakeOpenAI({
      reply: { toolCalls: [{ id: 'call_abc', name: 'get_weather', arguments: { city: 'Paris' } }, { name: 'get_time', arguments: '{}' }] },
    }));
    const completion = await openai(fake).chat.completions.create({ model: 'gpt-4o', messages: USER, tools: [WEATHER_TOOL] });

    const message = completion.choices[0].message;
    expect(message.content).toBeNull();
    expect(completion.choices[0].finish_reason).toBe('tool_calls');
    expect(message.tool_calls).toEqual([
      { id: 'call_abc', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
      { id: 'call_fake_2', type: 'function', function: { name: 'get_time', arguments: '{}' } },
    ]);
    expect((fake.requests[0].body as { tools: unknown[] }).tools).toEqual([WEATHER_TOOL]);
  });

  it('streams text in exactly the scripted chunks and sends no usage chunk unless asked', async () => {
    const fake = await track(startFakeOpenAI({ reply: { text: ['My key is sk-pro', 'j-ABC123', '.'] } }));
    const stream = await openai(fake).chat.completions.create({ model: 'gpt-4o', messages: USER, stream: true });

    const chunks: OpenAI.Chat.Completions.ChatCompletionChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);

    const deltas = chunks.flatMap((chunk) => chunk.choices.map((choice) => choice.delta.content)).filter((text) => text);
    expect(deltas).toEqual(['My key is sk-pro', 'j-ABC123', '.']);
    expect(chunks.every((chunk) => chunk.choices.length === 1 && chunk.usage === undefined)).toBe(true);
    expect(chunks.at(-1)?.choices[0].finish_reason).toBe('stop');
  });

  it('adds the choices: [] usage chunk only with stream_options.include_usage', async () => {
    const fake = await track(startFakeOpenAI({ reply: { text: ['a', 'b'], usage: { inputTokens: 5, outputTokens: 2, cachedInputTokens: 4 } } }));
    const stream = await openai(fake).chat.completions.create({
      model: 'gpt-4o', messages: USER, stream: true, stream_options: { include_usage: true },
    });
    const chunks: OpenAI.Chat.Completions.ChatCompletionChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);

    const last = chunks.at(-1)!;
    expect(last.choices).toEqual([]);
    expect(last.usage).toMatchObject({ prompt_tokens: 5, completion_tokens: 2, prompt_tokens_details: { cached_tokens: 4 } });
    expect(chunks.slice(0, -1).every((chunk) => chunk.usage === null)).toBe(true);
    expect(fake.requests[0].body).toMatchObject({ stream: true, stream_options: { include_usage: true } });
  });

  it('streams tool calls as index/id/name then argument fragments, reassembled by chat.completions.stream()', async () => {
    const fake = await track(startFakeOpenAI({
      reply: { text: ['Checking', '…'], toolCalls: [{ id: 'call_w', name: 'get_weather', arguments: ['{"ci', 'ty": "Par', 'is"}'] }] },
    }));
    const runner = openai(fake).chat.completions.stream({ model: 'gpt-4o', messages: USER, tools: [WEATHER_TOOL] });
    const fragments: string[] = [];
    runner.on('chunk', (chunk) => {
      for (const call of chunk.choices[0]?.delta.tool_calls ?? []) fragments.push(call.function?.arguments ?? '');
    });
    const final = await runner.finalChatCompletion();

    expect(fragments).toEqual(['{"ci', 'ty": "Par', 'is"}']);
    expect(final.choices[0].message.content).toBe('Checking…');
    expect(final.choices[0].finish_reason).toBe('tool_calls');
    expect(final.choices[0].message.tool_calls).toEqual([
      { id: 'call_w', type: 'function', function: { name: 'get_weather', arguments: '{"city": "Paris"}' } },
    ]);
  });

  it('drips chunks slowly and records that the client aborted mid-stream', async () => {
    const fake = await track(startFakeOpenAI({ reply: { text: ['one ', 'two ', 'three ', 'four'], delayMs: 25 } }));
    const stream = await openai(fake).chat.completions.create({ model: 'gpt-4o', messages: USER, stream: true });
    const arrivals: number[] = [];
    for await (const chunk of stream) {
      if (chunk.choices[0]?.delta.content) arrivals.push(performance.now());
      if (arrivals.length === 2) break;
    }
    // Each SSE event waits >= 25 ms, so the second text chunk arrives at least one delay after the first.
    expect(arrivals[1] - arrivals[0]).toBeGreaterThanOrEqual(20);
    await vi.waitFor(() => expect(fake.requests[0].aborted).toBe(true));
  });

  it('surfaces an in-stream error event as OpenAI.APIError', async () => {
    const fake = await track(startFakeOpenAI({ reply: { text: ['partial'], streamError: true } }));
    const stream = await openai(fake).chat.completions.create({ model: 'gpt-4o', messages: USER, stream: true });
    const seen: string[] = [];
    const error = await rejection((async () => {
      for await (const chunk of stream) seen.push(chunk.choices[0]?.delta.content ?? '');
    })());
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect((error as OpenAIAPIError).message).toContain('server had an error');
    expect(seen.join('')).toBe('partial');
  });
});

describe('fake OpenAI: responses', () => {
  it('answers a JSON request with output text, a function call and usage', async () => {
    const fake = await track(startFakeOpenAI({
      reply: { text: 'Let me check.', toolCalls: [{ name: 'get_weather', arguments: { city: 'Paris' } }], usage: { inputTokens: 30, outputTokens: 9, cachedInputTokens: 12 } },
    }));
    const response = await openai(fake).responses.create({ model: 'gpt-4.1', input: 'Weather in Paris?' });

    expect(response.status).toBe('completed');
    expect(response.output_text).toBe('Let me check.');
    expect(response.output.map((item) => item.type)).toEqual(['message', 'function_call']);
    expect(response.output[1]).toMatchObject({ type: 'function_call', name: 'get_weather', arguments: '{"city":"Paris"}', call_id: 'call_fake_1' });
    expect(response.usage).toMatchObject({ input_tokens: 30, output_tokens: 9, total_tokens: 39, input_tokens_details: { cached_tokens: 12 } });
    expect(fake.requests[0]).toMatchObject({ path: '/v1/responses', body: { model: 'gpt-4.1', input: 'Weather in Paris?' } });
  });

  it('streams named events from response.created to response.completed, reassembled by responses.stream()', async () => {
    const script: FakeStep = { reply: { text: ['Hel', 'lo'], toolCalls: [{ name: 'lookup', arguments: ['{"q":', '"x"}'] }], usage: { inputTokens: 3, outputTokens: 4 } } };
    const fake = await track(startFakeOpenAI(script));
    const client = openai(fake);

    const raw = await client.responses.create({ model: 'gpt-4.1', input: 'hi', stream: true });
    const types: string[] = [];
    const textDeltas: string[] = [];
    const argDeltas: string[] = [];
    for await (const event of raw) {
      types.push(event.type);
      if (event.type === 'response.output_text.delta') textDeltas.push(event.delta);
      if (event.type === 'response.function_call_arguments.delta') argDeltas.push(event.delta);
    }
    expect(types[0]).toBe('response.created');
    expect(types.at(-1)).toBe('response.completed');
    expect(textDeltas).toEqual(['Hel', 'lo']);
    expect(argDeltas).toEqual(['{"q":', '"x"}']);

    const final = await client.responses.stream({ model: 'gpt-4.1', input: 'hi' }).finalResponse();
    expect(final.output_text).toBe('Hello');
    expect(final.output[1]).toMatchObject({ type: 'function_call', name: 'lookup', arguments: '{"q":"x"}' });
    expect(final.usage).toMatchObject({ input_tokens: 3, output_tokens: 4 });
    expect(fake.requests.map((request) => (request.body as { stream?: boolean }).stream)).toEqual([true, true]);
  });

  it('ends a Responses stream with an error event instead of response.completed', async () => {
    const fake = await track(startFakeOpenAI({ reply: { text: ['par', 'tial'], streamError: { code: 'server_error', message: 'boom', param: null } } }));
    const stream = await openai(fake).responses.create({ model: 'gpt-4.1', input: 'hi', stream: true });
    const events: OpenAI.Responses.ResponseStreamEvent[] = [];
    for await (const event of stream) events.push(event);
    expect(events.at(-1)).toMatchObject({ type: 'error', code: 'server_error', message: 'boom' });
    expect(events.some((event) => event.type === 'response.completed')).toBe(false);
  });
});

describe('fake OpenAI: errors and scripts', () => {
  it('returns the scripted provider error as the SDK error class with the right status', async () => {
    const body = { error: { message: 'Rate limit reached for gpt-4o.', type: 'requests', param: null, code: 'rate_limit_exceeded' } };
    const fake = await track(startFakeOpenAI({ error: { status: 429, body, headers: { 'retry-after': '0' } } }));
    const error = await rejection(openai(fake).chat.completions.create({ model: 'gpt-4o', messages: USER }));

    expect(error).toBeInstanceOf(OpenAI.RateLimitError);
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect((error as OpenAIAPIError).status).toBe(429);
    expect((error as OpenAIAPIError).code).toBe('rate_limit_exceeded');
    expect((error as OpenAIAPIError).requestID).toBe('req_fake_1');
    expect(fake.requests).toHaveLength(1);
  });

  it('answers a wrong key with 401 and OpenAI\'s error body, without echoing the key', async () => {
    const fake = await track(startFakeOpenAI({ reply: { text: 'never sent' } }));
    const error = await rejection(openai(fake, 'sk-wrong-secret-key').chat.completions.create({ model: 'gpt-4o', messages: USER }));

    expect(error).toBeInstanceOf(OpenAI.AuthenticationError);
    expect((error as OpenAIAPIError).status).toBe(401);
    expect((error as OpenAIAPIError).code).toBe('invalid_api_key');
    expect(String((error as Error).message)).not.toContain('sk-wrong-secret-key');
  });

  it('consumes a list of steps in order and then reports the script as exhausted', async () => {
    const fake = await track(startFakeOpenAI([{ reply: { text: 'first' } }, { error: { status: 400 } }]));
    const client = openai(fake);
    const first = await client.chat.completions.create({ model: 'gpt-4o', messages: USER });
    const second = await rejection(client.chat.completions.create({ model: 'gpt-4o', messages: USER }));
    const third = await rejection(client.chat.completions.create({ model: 'gpt-4o', messages: USER }));

    expect(first.choices[0].message.content).toBe('first');
    expect(second).toBeInstanceOf(OpenAI.BadRequestError);
    expect((third as OpenAIAPIError).code).toBe('fake_script_exhausted');
  });

  it('records nothing when no call is made, and 404s unknown paths', async () => {
    const fake = await track(startFakeOpenAI({ reply: { text: 'x' } }));
    expect(fake.requests).toEqual([]);
    const response = await fetch(`${fake.baseURL}/no-such-endpoint?x=1`, { method: 'POST', body: '{}' });
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ error: { type: 'invalid_request_error' } });
    expect(fake.requests[0]).toMatchObject({ path: '/v1/no-such-endpoint', query: { x: '1' }, body: {} });
  });

  it('reassembles any split of the text into the original string (property)', async () => {
    let current: FakeStep = { reply: { text: '' } };
    const fake = await track(startFakeOpenAI(() => current));
    const client = openai(fake);
    await fc.assert(
      fc.asyncProperty(fc.array(fc.string({ unit: 'grapheme', minLength: 1 }), { minLength: 1, maxLength: 6 }), async (chunks) => {
        current = { reply: { text: chunks } };
        const stream = await client.chat.completions.create({ model: 'gpt-4o', messages: USER, stream: true });
        const deltas: string[] = [];
        for await (const chunk of stream) if (chunk.choices[0]?.delta.content) deltas.push(chunk.choices[0].delta.content);
        expect(deltas).toEqual(chunks);
      }),
      { numRuns: 25 },
    );
  });
});

describe('fake Azure OpenAI', () => {
  it('serves /openai/deployments/{deployment}/chat/completions with api-key and api-version', async () => {
    const fake = await track(startFakeAzureOpenAI({ reply: { text: 'Bonjour', model: 'gpt-4o-2024-11-20' } }));
    const completion = await azure(fake).chat.completions.create({ model: 'gpt-4o', messages: USER });

    expect(completion.choices[0].message.content).toBe('Bonjour');
    expect(completion.model).toBe('gpt-4o-2024-11-20');
    expect(completion.choices[0]).toHaveProperty('content_filter_results');
    const [request] = fake.requests;
    expect(request.path).toBe('/openai/deployments/gpt-4o-prod/chat/completions');
    expect(request.query).toEqual({ 'api-version': '2024-10-21' });
    expect(request.headers['api-key']).toBe(FAKE_AZURE_KEY);
    expect(request.headers.authorization).toBeUndefined();
  });

  it('opens streams with a choices: [] prompt-filter chunk and adds usage only when asked', async () => {
    const fake = await track(startFakeAzureOpenAI({ reply: { text: ['Bon', 'jour'], usage: { inputTokens: 8, outputTokens: 2 } } }));
    const client = azure(fake);
    const collect = async (includeUsage: boolean) => {
      const stream = await client.chat.completions.create({
        model: 'gpt-4o', messages: USER, stream: true, ...(includeUsage ? { stream_options: { include_usage: true } } : {}),
      });
      const chunks: OpenAI.Chat.Completions.ChatCompletionChunk[] = [];
      for await (const chunk of stream) chunks.push(chunk);
      return chunks;
    };

    const plain = await collect(false);
    expect(plain[0].choices).toEqual([]);
    expect(plain[0]).toHaveProperty('prompt_filter_results');
    expect(plain.map((chunk) => chunk.choices[0]?.delta.content).filter((text) => text)).toEqual(['Bon', 'jour']);
    expect(plain.some((chunk) => chunk.usage)).toBe(false);

    const withUsage = await collect(true);
    expect(withUsage.at(-1)).toMatchObject({ choices: [], usage: { prompt_tokens: 8, completion_tokens: 2 } });
  });

  it('streams tool calls that chat.completions.stream() reassembles', async () => {
    const fake = await track(startFakeAzureOpenAI({ reply: { toolCalls: [{ name: 'get_weather', arguments: ['{"city"', ':"Oslo"}'] }] } }));
    const final = await azure(fake).chat.completions.stream({ model: 'gpt-4o', messages: USER, tools: [WEATHER_TOOL] }).finalChatCompletion();
    expect(final.choices[0].message.tool_calls?.[0]).toMatchObject({ function: { name: 'get_weather', arguments: '{"city":"Oslo"}' } });
  });

  it('rejects a wrong key (401), an unknown deployment (404) and surfaces a content-filter 400', async () => {
    const fake = await track(startFakeAzureOpenAI({ error: { status: 400, body: azureContentFilterError('jailbreak') } }, { deployments: ['gpt-4o-prod'] }));

    const wrongKey = await rejection(azure(fake, 'gpt-4o-prod', 'bad-key').chat.completions.create({ model: 'gpt-4o', messages: USER }));
    expect(wrongKey).toBeInstanceOf(OpenAI.AuthenticationError);
    expect((wrongKey as OpenAIAPIError).status).toBe(401);

    const missing = await rejection(azure(fake, 'nope').chat.completions.create({ model: 'gpt-4o', messages: USER }));
    expect(missing).toBeInstanceOf(OpenAI.NotFoundError);
    expect((missing as OpenAIAPIError).code).toBe('DeploymentNotFound');

    const filtered = await rejection(azure(fake).chat.completions.create({ model: 'gpt-4o', messages: USER }));
    expect(filtered).toBeInstanceOf(OpenAI.BadRequestError);
    expect((filtered as OpenAIAPIError).code).toBe('content_filter');
    expect(fake.requests).toHaveLength(3);
  });
});

describe('fake Anthropic', () => {
  it('answers a JSON request with text, tool_use and cache usage; SDK 1.x sends the key as Bearer', async () => {
    const fake = await track(startFakeAnthropic({
      reply: {
        text: 'Checking the weather.',
        toolCalls: [{ name: 'get_weather', arguments: { city: 'Paris' } }],
        usage: { inputTokens: 50, outputTokens: 12, cachedInputTokens: 40, cacheCreationInputTokens: 6 },
      },
    }));
    const message = await anthropic(fake).messages.create({ model: 'claude-sonnet-5-5', max_tokens: 256, messages: USER });

    expect(message.content).toEqual([
      { type: 'text', text: 'Checking the weather.' },
      { type: 'tool_use', id: 'toolu_fake_1', name: 'get_weather', input: { city: 'Paris' } },
    ]);
    expect(message.stop_reason).toBe('tool_use');
    expect(message.usage).toMatchObject({ input_tokens: 50, output_tokens: 12, cache_read_input_tokens: 40, cache_creation_input_tokens: 6 });

    const [request] = fake.requests;
    expect(request).toMatchObject({ method: 'POST', path: '/v1/messages', body: { model: 'claude-sonnet-5-5', max_tokens: 256, messages: USER } });
    expect(request.headers.authorization).toBe(`Bearer ${FAKE_ANTHROPIC_KEY}`);
    expect(request.headers['anthropic-version']).toBeDefined();
  });

  it('also accepts the key as x-api-key', async () => {
    const fake = await track(startFakeAnthropic({ reply: { text: 'ok' } }));
    const headers = { 'x-api-key': FAKE_ANTHROPIC_KEY, 'anthropic-version': '2023-06-01', 'content-type': 'application/json' };
    const response = await fetch(`${fake.url}/v1/messages`, {
      method: 'POST', headers, body: JSON.stringify({ model: 'claude-sonnet-5-5', max_tokens: 10, messages: USER }),
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ type: 'message', content: [{ type: 'text', text: 'ok' }], stop_reason: 'end_turn' });
  });

  it('streams message_start → content blocks → message_delta → message_stop, reassembled by messages.stream()', async () => {
    const fake = await track(startFakeAnthropic({
      reply: {
        text: ['card 4111 1111', ' 1111 1111'],
        toolCalls: [{ id: 'toolu_x', name: 'charge', arguments: ['{"amount"', ': 12}'] }],
        usage: { inputTokens: 20, outputTokens: 15, cachedInputTokens: 16, cacheCreationInputTokens: 0 },
      },
    }));
    const client = anthropic(fake);

    const raw = await client.messages.create({ model: 'claude-sonnet-5-5', max_tokens: 100, messages: USER, stream: true });
    const events: Anthropic.Messages.RawMessageStreamEvent[] = [];
    for await (const event of raw) events.push(event);
    expect(events.map((event) => event.type)).toEqual([
      'message_start',
      'content_block_start', 'content_block_delta', 'content_block_delta', 'content_block_stop',
      'content_block_start', 'content_block_delta', 'content_block_delta', 'content_block_stop',
      'message_delta', 'message_stop',
    ]);
    const start = events[0] as Anthropic.Messages.RawMessageStartEvent;
    expect(start.message.usage).toMatchObject({ input_tokens: 20, cache_read_input_tokens: 16 });
    expect((events[9] as Anthropic.Messages.RawMessageDeltaEvent).usage.output_tokens).toBe(15);

    const stream = client.messages.stream({ model: 'claude-sonnet-5-5', max_tokens: 100, messages: USER });
    const texts: string[] = [];
    const partials: string[] = [];
    stream.on('text', (text) => texts.push(text));
    stream.on('inputJson', (partial) => partials.push(partial));
    const final = await stream.finalMessage();

    expect(texts).toEqual(['card 4111 1111', ' 1111 1111']);
    expect(partials).toEqual(['{"amount"', ': 12}']);
    expect(final.content).toEqual([
      { type: 'text', text: 'card 4111 1111 1111 1111' },
      { type: 'tool_use', id: 'toolu_x', name: 'charge', input: { amount: 12 } },
    ]);
    expect(final.stop_reason).toBe('tool_use');
    expect(final.usage).toMatchObject({ input_tokens: 20, output_tokens: 15, cache_read_input_tokens: 16 });
  });

  it('returns scripted errors as Anthropic.APIError with the right status and type', async () => {
    const fake = await track(startFakeAnthropic([{ error: { status: 529 } }, { error: { status: 400, body: { type: 'error', error: { type: 'invalid_request_error', message: 'max_tokens: too large' } } } }]));
    const client = anthropic(fake);

    const overloaded = await rejection(client.messages.create({ model: 'claude-sonnet-5-5', max_tokens: 1, messages: USER }));
    expect(overloaded).toBeInstanceOf(Anthropic.APIError);
    expect((overloaded as AnthropicAPIError).status).toBe(529);
    expect((overloaded as AnthropicAPIError).error).toMatchObject({ type: 'error', error: { type: 'overloaded_error' } });
    expect((overloaded as AnthropicAPIError).requestID).toBe('req_fake_1');

    const invalid = await rejection(client.messages.create({ model: 'claude-sonnet-5-5', max_tokens: 1, messages: USER }));
    expect(invalid).toBeInstanceOf(Anthropic.BadRequestError);
    expect((invalid as Error).message).toContain('max_tokens: too large');
    expect(fake.requests).toHaveLength(2);
  });

  it('answers a wrong key with 401 authentication_error', async () => {
    const fake = await track(startFakeAnthropic({ reply: { text: 'never sent' } }));
    const error = await rejection(anthropic(fake, 'sk-ant-wrong').messages.create({ model: 'claude-sonnet-5-5', max_tokens: 1, messages: USER }));
    expect(error).toBeInstanceOf(Anthropic.AuthenticationError);
    expect((error as AnthropicAPIError).status).toBe(401);
    expect((error as AnthropicAPIError).error).toMatchObject({ error: { type: 'authentication_error' } });
  });

  it('drips events slowly, then surfaces an in-stream error event as Anthropic.APIError', async () => {
    const fake = await track(startFakeAnthropic({ reply: { text: ['a', 'b'], delayMs: 15, streamError: true } }));
    const started = performance.now();
    const stream = anthropic(fake).messages.stream({ model: 'claude-sonnet-5-5', max_tokens: 10, messages: USER });
    const texts: string[] = [];
    stream.on('text', (text) => texts.push(text));
    const error = await rejection(stream.finalMessage());
    // 7 events (message_start, ping, block start, 2 deltas, block stop, error) with >= 15 ms before each after the first.
    expect(performance.now() - started).toBeGreaterThanOrEqual(80);
    expect(error).toBeInstanceOf(Anthropic.APIError);
    expect((error as AnthropicAPIError).error).toMatchObject({ error: { type: 'overloaded_error' } });
    expect(texts).toEqual(['a', 'b']);
  });
});
