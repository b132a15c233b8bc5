import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ChatOpenAI } from '@langchain/openai';
import { initChatModel } from 'langchain';
import { modelIdentity, resolveModelIdentity, usageOf } from '../src/adapters/langchain/model-call.js';

describe('usage of a LangChain answer', () => {
  it('splits the prompt count into new, cache-read and cache-written tokens, as the ledger prices them', () => {
    const usage = usageOf({ usage_metadata: { input_tokens: 100, output_tokens: 20, input_token_details: { cache_read: 30, cache_creation: 10 }, output_token_details: { reasoning: 5 } } }, 'gpt-4o');
    expect(usage).toEqual({ model: 'gpt-4o', inputTokens: 60, outputTokens: 20, cacheReadInputTokens: 30, cacheCreationInputTokens: 10, reasoningTokens: 5 });
  });

  it('names the model the provider reported, and reports nothing when the answer carries no usage', () => {
    expect(usageOf({ usage_metadata: { input_tokens: 1, output_tokens: 1 }, response_metadata: { model_name: 'gpt-4o-2024-08-06' } }, 'gpt-4o')?.model).toBe('gpt-4o-2024-08-06');
    expect(usageOf({}, 'gpt-4o')).toBeUndefined();
  });

  it('never counts a negative or non-numeric token figure (property)', () => {
    const figure = fc.oneof(fc.integer({ min: -1000, max: 100_000 }), fc.constant(Number.NaN), fc.constant('12'), fc.constant(undefined));
    fc.assert(
      fc.property(figure, figure, figure, figure, (input, output, read, write) => {
        const u = usageOf({ usage_metadata: { input_tokens: input, output_tokens: output, input_token_details: { cache_read: read, cache_creation: write } } }, 'm')!;
        for (const n of [u.inputTokens, u.outputTokens, u.cacheReadInputTokens, u.cacheCreationInputTokens]) expect(Number.isInteger(n) && n! >= 0).toBe(true);
      }),
    );
  });
});

describe('the model an action names', () => {
  it('reads provider, model and output limit from a chat model', () => {
    expect(modelIdentity(new ChatOpenAI({ model: 'gpt-4o-mini', maxTokens: 300, apiKey: 'sk-x' }))).toMatchObject({ provider: 'openai', model: 'gpt-4o-mini', maxTokens: 300 });
  });

  it('asks the chat model behind a configurable model (createAgent given "openai:gpt-4o-mini")', async () => {
    const configurable = await initChatModel('openai:gpt-4o-mini', { apiKey: 'sk-x', maxTokens: 64 });
    expect(await resolveModelIdentity(configurable)).toMatchObject({ provider: 'openai', model: 'gpt-4o-mini', maxTokens: 64 });
  });

  it('reads a "provider:model" string as createAgent takes it', () => {
    expect(modelIdentity('anthropic:claude-sonnet-4-5')).toEqual({ provider: 'anthropic', model: 'claude-sonnet-4-5' });
    expect(modelIdentity('gpt-4o')).toEqual({ provider: 'unknown', model: 'gpt-4o' });
  });
});
