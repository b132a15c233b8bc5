import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadPriceOverrides, parsePriceOverrides } from '../src/core/cost/overrides.js';
import { baseModelId, loadImportedPrices, loadPriceCatalog, PriceCatalog } from '../src/core/cost/prices.js';
import { isAgentGuardError } from '../src/core/errors.js';
import { ROOT } from './helpers/cli.js';
import { makeTempDir } from './helpers/temp-dirs.js';

const SHARED = resolve(ROOT, process.env.AGENTGUARD_SHARED_DATA ?? '../shared/data');
const OLD_MAP = join(SHARED, 'model_prices_2025-11-21.json');
const NEW_MAP = join(SHARED, 'model_prices_2026-07-24.json');
const hasMaps = existsSync(OLD_MAP) && existsSync(NEW_MAP);

const shipped = PriceCatalog.shipped();

/** A small map in the LiteLLM format. */
function tinyMap(): Record<string, unknown> {
  const chat = (provider: string, input: number, output: number, extra: Record<string, unknown> = {}) => ({ litellm_provider: provider, mode: 'chat', input_cost_per_token: input, output_cost_per_token: output, ...extra });
  return {
    sample_spec: { litellm_provider: 'one of …', mode: 'one of …', input_cost_per_token: 0 },
    last_updated: '2030-01-01T00:00:00Z',
    'gpt-4': chat('openai', 3e-5, 6e-5),
    'gpt-4o': chat('openai', 2.5e-6, 1e-5, { max_output_tokens: 16384, cache_read_input_token_cost: 1.25e-6 }),
    'gpt-5': chat('openai', 1.25e-6, 1e-5),
    'azure/gpt-4o': chat('azure', 2.75e-6, 1.1e-5),
    'claude-sonnet-4-5': chat('anthropic', 3e-6, 1.5e-5, { cache_creation_input_token_cost: 3.75e-6, cache_creation_input_token_cost_above_1hr: 6e-6, input_cost_per_token_above_200k_tokens: 6e-6 }),
    'text-embedding-3-small': { litellm_provider: 'openai', mode: 'embedding', input_cost_per_token: 2e-8, output_cost_per_token: 0 },
    'gemini-2.5-pro': chat('vertex_ai-language-models', 1.25e-6, 1e-5, { max_output_tokens: 'lots' }),
    'gpt-no-output-price': { litellm_provider: 'openai', mode: 'chat', input_cost_per_token: 1e-6 },
  };
}
const tiny = PriceCatalog.fromLiteLlmMap(tinyMap(), 'tiny.json');

function thrown(fn: () => unknown): { code: string; message: string } {
  try {
    fn();
  } catch (error) {
    if (isAgentGuardError(error)) return { code: error.code, message: error.message };
    throw error;
  }
  throw new Error('expected an error');
}

describe('the shipped catalog', () => {
  it('has gpt-4o, gpt-4.1 and claude-sonnet-4-5 with the prices of the LiteLLM maps', () => {
    expect(shipped.get('openai/gpt-4o')).toEqual({ provider: 'openai', input: 2.5e-6, output: 1e-5, cacheRead: 1.25e-6, batch: { input: 1.25e-6, output: 5e-6 }, maxInputTokens: 128_000, maxOutputTokens: 16_384 });
    expect(shipped.get('openai/gpt-4.1')).toEqual({ provider: 'openai', input: 2e-6, output: 8e-6, cacheRead: 5e-7, batch: { input: 1e-6, output: 4e-6 }, maxInputTokens: 1_047_576, maxOutputTokens: 32_768 });
    expect(shipped.get('anthropic/claude-sonnet-4-5')).toEqual({
      provider: 'anthropic',
      input: 3e-6,
      output: 1.5e-5,
      cacheRead: 3e-7,
      cacheWrite5m: 3.75e-6,
      cacheWrite1h: 6e-6,
      above200k: { input: 6e-6, output: 2.25e-5, cacheRead: 6e-7, cacheWrite5m: 7.5e-6, cacheWrite1h: 1.2e-5 },
      maxInputTokens: 200_000,
      maxOutputTokens: 64_000,
    });
  });

  it('covers OpenAI, Azure, Anthropic, and Anthropic on Bedrock (with region prefixes) and Vertex', () => {
    expect(shipped.get('azure/gpt-4o')?.input).toBe(2.5e-6);
    expect(shipped.get('bedrock/anthropic.claude-sonnet-4-5-20250929-v1:0')?.input).toBe(3e-6);
    // Regional endpoints are their own entries with their own (higher) prices.
    expect(shipped.get('bedrock/us.anthropic.claude-sonnet-4-5-20250929-v1:0')?.input).toBe(3.3e-6);
    expect(shipped.get('vertex/claude-sonnet-4-5')?.batch).toEqual({ input: 1.5e-6, output: 7.5e-6 });
    const providers = new Set([...shipped.entries()].map(([key, e]) => { expect(key.startsWith(`${e.provider}/`)).toBe(true); return e.provider; }));
    expect([...providers].sort()).toEqual(['anthropic', 'azure', 'bedrock', 'openai', 'vertex']);
    // Only chat models: no embeddings or image models.
    expect(shipped.get('openai/text-embedding-3-small')).toBeUndefined();
    expect(shipped.get('openai/dall-e-3')).toBeUndefined();
  });

  it('keeps models only the older map lists, and takes the newer map where both list a model', () => {
    expect(shipped.get('anthropic/claude-3-5-sonnet-20241022')).toMatchObject({ input: 3e-6, output: 1.5e-5 });
    expect(shipped.get('anthropic/claude-3-7-sonnet-20250219')?.maxOutputTokens).toBe(64_000); // 128,000 in the older map
    expect(shipped.get('azure/gpt-5-chat')?.maxOutputTokens).toBe(16_384); // 128,000 in the older map
  });

  it('says where its prices come from and under which licence', () => {
    const file = JSON.parse(readFileSync(join(ROOT, 'prices/catalog.json'), 'utf8'));
    expect(file.licence).toBe('MIT (BerriAI/litellm)');
    expect(file.source).toMatch(/LiteLLM/);
    expect(file.generatedFrom.map((g: { file: string }) => g.file)).toEqual(['model_prices_2025-11-21.json', 'model_prices_2026-07-24.json']);
    expect(Object.keys(file.models)).toEqual(Object.keys(file.models).sort());
  });

  it.skipIf(!hasMaps)(`matches the shared price maps it is built from ${hasMaps ? '' : `(skipped: no ${NEW_MAP}; set AGENTGUARD_SHARED_DATA)`}`, () => {
    const merged = { ...JSON.parse(readFileSync(OLD_MAP, 'utf8')), ...JSON.parse(readFileSync(NEW_MAP, 'utf8')) };
    const rebuilt = PriceCatalog.fromLiteLlmMap(merged, 'maps');
    expect(Object.fromEntries(shipped.entries())).toEqual(Object.fromEntries(rebuilt.entries()));
    expect(merged['gpt-4o'].input_cost_per_token).toBe(shipped.get('openai/gpt-4o')?.input);
    expect(merged['claude-sonnet-4-5'].cache_creation_input_token_cost_above_1hr).toBe(shipped.get('anthropic/claude-sonnet-4-5')?.cacheWrite1h);
  });
});

describe('resolve', () => {
  it('finds the exact entry first, even when the model looks dated', () => {
    expect(shipped.resolve('openai', 'gpt-4o')).toMatchObject({ key: 'openai/gpt-4o', via: 'exact' });
    // gpt-4o-2024-05-13 has its own, higher price: it must not be priced as gpt-4o.
    expect(shipped.resolve('openai', 'gpt-4o-2024-05-13')).toMatchObject({ key: 'openai/gpt-4o-2024-05-13', via: 'exact', entry: { input: 5e-6 } });
    expect(shipped.resolve('anthropic', 'claude-sonnet-4-5-20250929')).toMatchObject({ key: 'anthropic/claude-sonnet-4-5-20250929', via: 'exact' });
  });

  it('prices a dated id without its own entry as its undated base', () => {
    expect(shipped.resolve('openai', 'gpt-4o-2099-01-31')).toMatchObject({ key: 'openai/gpt-4o', via: 'base', entry: { input: 2.5e-6 } });
    expect(shipped.resolve('anthropic', 'claude-sonnet-4-5-20991231')).toMatchObject({ key: 'anthropic/claude-sonnet-4-5', via: 'base' });
    expect(shipped.resolve('vertex', 'claude-sonnet-4-5@20991231')).toMatchObject({ key: 'vertex/claude-sonnet-4-5', via: 'base' });
    expect(tiny.resolve('openai', 'gpt-4-0613')).toMatchObject({ key: 'openai/gpt-4', via: 'base' });
  });

  it('never maps a model to a different model: gpt-4o is not gpt-4, gpt-4o-mini is not gpt-4o', () => {
    const onlyGpt4 = PriceCatalog.fromLiteLlmMap({ 'gpt-4': { litellm_provider: 'openai', mode: 'chat', input_cost_per_token: 3e-5, output_cost_per_token: 6e-5 } }, 'x');
    expect(onlyGpt4.resolve('openai', 'gpt-4o')).toBeUndefined();
    expect(onlyGpt4.resolve('openai', 'gpt-4-turbo')).toBeUndefined();
    expect(tiny.resolve('openai', 'gpt-4o-mini')).toBeUndefined();
    expect(tiny.resolve('openai', 'gpt-4o-mini-2024-07-18')).toBeUndefined();
    expect(tiny.resolve('openai', 'gpt-5-mini')).toBeUndefined();
    expect(tiny.resolve('openai', 'gpt-5.1')).toBeUndefined();
  });

  it('only strips a trailing date: not -latest, not a Bedrock -v1:0 version', () => {
    expect(baseModelId('gpt-4o-2024-08-06')).toBe('gpt-4o');
    expect(baseModelId('claude-sonnet-4-5-20250929')).toBe('claude-sonnet-4-5');
    expect(baseModelId('claude-sonnet-4-5@20250929')).toBe('claude-sonnet-4-5');
    expect(baseModelId('gpt-3.5-turbo-0125')).toBe('gpt-3.5-turbo');
    for (const id of ['gpt-4o', 'gpt-4o-mini', 'chatgpt-4o-latest', 'claude-3-5-sonnet-latest', 'anthropic.claude-sonnet-4-5-20250929-v1:0', 'claude-2-1000', 'o1-2024', 'gpt-4-1106-preview', 'gpt-4-9999', '2024-08-06']) {
      expect(baseModelId(id), id).toBeUndefined();
    }
    expect(shipped.resolve('openai', 'gpt-9-chat-latest')).toBeUndefined();
    expect(shipped.resolve('anthropic', 'claude-3-5-sonnet-latest')).toMatchObject({ via: 'exact' });
    expect(shipped.resolve('bedrock', 'anthropic.claude-sonnet-4-5-20250929-v1:0')).toMatchObject({ via: 'exact' });
    expect(shipped.resolve('bedrock', 'anthropic.claude-sonnet-4-5-20991231-v1:0')).toBeUndefined();
  });

  it('Azure: its own entry first, else the same OpenAI model (via base)', () => {
    expect(tiny.resolve('azure', 'gpt-4o')).toMatchObject({ key: 'azure/gpt-4o', via: 'exact', entry: { input: 2.75e-6 } });
    expect(tiny.resolve('azure', 'gpt-5')).toMatchObject({ key: 'openai/gpt-5', via: 'base', entry: { input: 1.25e-6 } });
    expect(tiny.resolve('azure', 'gpt-4o-2099-01-01')).toMatchObject({ key: 'azure/gpt-4o', via: 'base' });
    expect(tiny.resolve('azure', 'gpt-5-2099-01-01')).toMatchObject({ key: 'openai/gpt-5', via: 'base' });
    // The fallback goes one way only: OpenAI never takes Azure's prices.
    const azureOnly = PriceCatalog.fromLiteLlmMap({ 'azure/gpt-x': { litellm_provider: 'azure', mode: 'chat', input_cost_per_token: 1e-6, output_cost_per_token: 1e-6 } }, 'x');
    expect(azureOnly.resolve('openai', 'gpt-x')).toBeUndefined();
    expect(shipped.resolve('azure', 'gpt-4.5-preview-2025-02-27')).toMatchObject({ key: 'openai/gpt-4.5-preview-2025-02-27', via: 'base' });
  });

  it('overrides win: provider-specific before bare, keeping the catalog\'s token limits but not its cache prices', () => {
    const overrides = { 'openai/gpt-4o': { input: 1e-6, output: 2e-6 }, 'gpt-4o': { input: 9e-6, output: 9e-6 }, 'my-model': { input: 5e-7, output: 1e-6, maxOutputTokens: 4096 } };
    expect(tiny.resolve('openai', 'gpt-4o', overrides)).toEqual({ key: 'openai/gpt-4o', via: 'override', entry: { provider: 'openai', input: 1e-6, output: 2e-6, maxOutputTokens: 16384 } });
    expect(tiny.resolve('azure', 'gpt-4o', overrides)).toMatchObject({ key: 'gpt-4o', via: 'override', entry: { provider: 'azure', input: 9e-6 } });
    expect(tiny.resolve('anthropic', 'my-model', overrides)).toEqual({ key: 'my-model', via: 'override', entry: { provider: 'anthropic', input: 5e-7, output: 1e-6, maxOutputTokens: 4096 } });
    expect(tiny.resolve('openai', 'gpt-4o-2099-01-01', overrides)).toMatchObject({ key: 'openai/gpt-4o', via: 'base', entry: { input: 2.5e-6 } });
    expect(tiny.resolve('openai', 'gpt-4', overrides)).toMatchObject({ via: 'exact' });
  });

  it('returns undefined for an unknown model or provider (never a $0 price)', () => {
    expect(shipped.resolve('openai', 'no-such-model')).toBeUndefined();
    expect(shipped.resolve('mistral', 'gpt-4o')).toBeUndefined();
    expect(shipped.resolve('openai', '')).toBeUndefined();
  });
});

describe('LiteLLM maps (cost prices import)', () => {
  it('keeps chat models of the priced providers that have input and output prices', () => {
    expect([...tiny.entries()].map(([key]) => key)).toEqual(['anthropic/claude-sonnet-4-5', 'azure/gpt-4o', 'openai/gpt-4', 'openai/gpt-4o', 'openai/gpt-5']);
    expect(tiny.get('anthropic/claude-sonnet-4-5')).toEqual({ provider: 'anthropic', input: 3e-6, output: 1.5e-5, cacheWrite5m: 3.75e-6, cacheWrite1h: 6e-6, above200k: { input: 6e-6 } });
    expect(tiny.origins).toEqual([{ file: 'tiny.json', lastUpdated: '2030-01-01T00:00:00Z' }]);
  });

  it('reports every bad entry with its key, and keeps none of them', () => {
    const map = tinyMap();
    map['gpt-bad'] = { litellm_provider: 'openai', mode: 'chat', input_cost_per_token: '0.000002', output_cost_per_token: 1e-5 };
    map['claude-bad'] = { litellm_provider: 'anthropic', input_cost_per_token: 3e-6, output_cost_per_token: -1, max_output_tokens: 1.5 };
    const error = thrown(() => PriceCatalog.fromLiteLlmMap(map, 'newer.json'));
    expect(error.code).toBe('PRICES_INVALID');
    expect(error.message).toContain('newer.json: 3 price entries are not valid');
    expect(error.message).toContain('"gpt-bad": input_cost_per_token must be a number of USD per token, 0 or more (got "0.000002")');
    expect(error.message).toContain('"claude-bad": output_cost_per_token');
    expect(error.message).toContain('"claude-bad": max_output_tokens must be a whole number above 0 (got 1.5)');
    expect(error.message).not.toContain('gemini'); // other providers are not ours to check
  });

  it('rejects a file that is not a price map or prices nothing we use', () => {
    expect(thrown(() => PriceCatalog.fromLiteLlmMap([1, 2], 'list.json')).message).toContain('list.json: 1 price entry is not valid');
    expect(thrown(() => PriceCatalog.fromLiteLlmMap({ 'gemini-2.5-pro': { litellm_provider: 'vertex_ai', mode: 'chat', input_cost_per_token: 1e-6, output_cost_per_token: 1e-6 } }, 'g.json')).message).toMatch(/no chat model with input and output prices/);
  });

  it('prefers the unprefixed id when a map lists a model both ways', () => {
    const map = {
      'bedrock/us.anthropic.claude-x-v1:0': { litellm_provider: 'bedrock', mode: 'chat', input_cost_per_token: 1e-6, output_cost_per_token: 1e-6 },
      'us.anthropic.claude-x-v1:0': { litellm_provider: 'bedrock_converse', mode: 'chat', input_cost_per_token: 2e-6, output_cost_per_token: 2e-6 },
    };
    expect(PriceCatalog.fromLiteLlmMap(map, 'x').get('bedrock/us.anthropic.claude-x-v1:0')?.input).toBe(2e-6);
  });

  it('merge: the newer catalog wins per key and the rest is kept', () => {
    const newer = PriceCatalog.fromLiteLlmMap({ 'gpt-4o': { litellm_provider: 'openai', mode: 'chat', input_cost_per_token: 2e-6, output_cost_per_token: 8e-6 }, 'gpt-6': { litellm_provider: 'openai', input_cost_per_token: 1e-6, output_cost_per_token: 2e-6 } }, 'newer.json');
    const merged = tiny.merge(newer);
    expect(merged.get('openai/gpt-4o')).toEqual({ provider: 'openai', input: 2e-6, output: 8e-6 });
    expect(merged.get('openai/gpt-6')?.input).toBe(1e-6);
    expect(merged.get('openai/gpt-4')?.input).toBe(3e-5);
    expect(merged.size).toBe(tiny.size + 1);
    expect(merged.origins.map((o) => o.file)).toEqual(['tiny.json', 'newer.json']);
  });

  it('an imported map saved in a data folder is read back and used over the shipped prices', () => {
    const dataDir = makeTempDir('ag-prices-');
    expect(loadImportedPrices(dataDir)).toBeUndefined();
    expect(loadPriceCatalog(dataDir).get('openai/gpt-4o')?.input).toBe(2.5e-6);
    const newer = PriceCatalog.fromLiteLlmMap({ 'gpt-4o': { litellm_provider: 'openai', input_cost_per_token: 2e-6, output_cost_per_token: 8e-6 } }, 'newer.json');
    writeFileSync(join(dataDir, 'prices.json'), JSON.stringify(newer.toFile()));
    expect(loadImportedPrices(dataDir)?.get('openai/gpt-4o')?.input).toBe(2e-6);
    const effective = loadPriceCatalog(dataDir);
    expect(effective.resolve('openai', 'gpt-4o')?.entry.input).toBe(2e-6);
    expect(effective.get('anthropic/claude-sonnet-4-5')?.input).toBe(3e-6);
    const edited = newer.toFile();
    edited.models['openai/gpt-4o'] = { ...edited.models['openai/gpt-4o'], cacheRead: -1 };
    writeFileSync(join(dataDir, 'prices.json'), JSON.stringify(edited));
    expect(thrown(() => loadImportedPrices(dataDir)).message).toContain('"openai/gpt-4o": needs "provider"');
    writeFileSync(join(dataDir, 'prices.json'), '{ nope');
    expect(thrown(() => loadImportedPrices(dataDir)).message).toContain('prices.json: cannot be read as JSON');
  });
});

describe('price overrides from the config', () => {
  it('accepts per-token prices keyed by provider/model or bare model', () => {
    const value = { 'openai/ft:gpt-4o:acme': { input: 3.75e-6, output: 1.5e-5, cacheRead: 1.875e-6 }, 'my-model': { input: 0, output: 0, maxOutputTokens: 8192 } };
    expect(parsePriceOverrides(value, 'cfg: cost.prices')).toEqual(value);
    expect(parsePriceOverrides(undefined, 'cfg: cost.prices')).toEqual({});
  });

  it('keeps a model named __proto__ as an own key, never as the prototype of the overrides', () => {
    const parsed = parsePriceOverrides(JSON.parse('{"__proto__": {"input": 1e-6, "output": 2e-6}}'), 'cfg: cost.prices');
    expect(Object.getPrototypeOf(parsed)).toBe(Object.prototype);
    expect(Object.hasOwn(parsed, '__proto__')).toBe(true);
    expect((parsed as Record<string, unknown>).input).toBeUndefined();
  });

  it('rejects bad overrides, naming the model and field', () => {
    expect(thrown(() => parsePriceOverrides({ 'gpt-4o': { input: 2.5 } }, 'cfg: cost.prices')).message).toBe('cfg: cost.prices.gpt-4o.output: is missing');
    expect(thrown(() => parsePriceOverrides({ 'gpt-4o': { input: -1, output: 1e-5 } }, 'cfg: cost.prices')).message).toContain('cost.prices.gpt-4o.input: must be a number');
    expect(thrown(() => parsePriceOverrides({ 'gpt-4o': { input: 1e-6, output: 1e-5, inputPerMillion: 1 } }, 'cfg: cost.prices')).message).toContain('unknown field "inputPerMillion"');
    expect(thrown(() => parsePriceOverrides({ 'gpt-4o': { input: 1e-6, output: 1e-5, maxOutputTokens: 0 } }, 'cfg: cost.prices')).message).toContain('maxOutputTokens');
    expect(thrown(() => parsePriceOverrides([], 'cfg: cost.prices')).code).toBe('CONFIG_INVALID');
  });

  it('loadPriceOverrides is {} for a project without a cost section', async () => {
    const dir = makeTempDir('ag-overrides-');
    expect(await loadPriceOverrides(dir)).toEqual({});
    writeFileSync(join(dir, 'agentguard.config.json'), JSON.stringify({ policy: 'agentguard/policy.yaml' }));
    expect(await loadPriceOverrides(dir)).toEqual({});
  });
});
