import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCliInProcess } from './helpers/cli-in-process.js';
import { makeTempDir } from './helpers/temp-dirs.js';

// Run from an empty folder so no agentguard.config.json of the repository (or above) takes part.
let cwd: string;
let dataDir: string;
beforeAll(async () => {
  cwd = makeTempDir('ag-cli-prices-');
  dataDir = join(cwd, 'data');
});

const cli = (...args: string[]) => runCliInProcess(args, { cwd });
async function json<T>(...args: string[]): Promise<T> {
  const result = await cli(...args, '--json');
  expect(result.code, result.stderr + result.stdout).toBe(0);
  return JSON.parse(result.stdout) as T;
}

interface ListJson {
  unit: string;
  sources: Array<{ file: string; lastUpdated: string | null }>;
  models: Array<{ key: string; origin: string; provider: string; input: number; output: number }>;
}
interface ModelJson {
  model: string;
  provider: string | null;
  matches: Array<{ provider: string; key: string; via: string; origin: string; entry: { input: number }; billed: Record<string, number>; derived: string[] }>;
}

describe('agentguard cost prices', () => {
  it('--json lists the models of one provider in USD per token', async () => {
    const list = await json<ListJson>('cost', 'prices', '--provider', 'openai');
    expect(list.unit).toBe('USD per token');
    expect(list.sources.map((s) => s.file)).toEqual(['model_prices_2025-11-21.json', 'model_prices_2026-07-24.json']);
    expect(list.models.length).toBeGreaterThan(50);
    expect(list.models.every((m) => m.provider === 'openai' && m.origin === 'shipped')).toBe(true);
    expect(list.models.find((m) => m.key === 'openai/gpt-4o')).toMatchObject({ input: 2.5e-6, output: 1e-5 });
  });

  it('prints a table in USD per 1M tokens', async () => {
    const result = await cli('cost', 'prices', '--provider', 'anthropic');
    expect(result.code, result.stderr).toBe(0);
    const lines = result.stdout.split('\n');
    expect(lines[0]).toMatch(/^MODEL\s+INPUT\s+OUTPUT\s+CACHE READ\s+CACHE WRITE\s+MAX OUTPUT$/);
    expect(lines.find((l) => l.startsWith('anthropic/claude-sonnet-4-5 '))).toMatch(/^anthropic\/claude-sonnet-4-5\s+\$3\.00\s+\$15\.00\s+\$0\.30\s+\$3\.75\s+64,000$/);
    expect(result.stdout).not.toContain('openai/');
    expect(result.stderr).toContain('Prices in USD per 1M tokens');
  });

  it('shows how a model is priced: exact entry, dated id → base, Azure → OpenAI', async () => {
    const exact = await json<ModelJson>('cost', 'prices', 'gpt-4o-2024-08-06', '--provider', 'openai');
    expect(exact.matches).toEqual([expect.objectContaining({ provider: 'openai', key: 'openai/gpt-4o-2024-08-06', via: 'exact', origin: 'shipped' })]);

    const dated = await json<ModelJson>('cost', 'prices', 'openai/gpt-4o-2099-01-01');
    expect(dated.provider).toBe('openai');
    expect(dated.matches).toHaveLength(1);
    expect(dated.matches[0]).toMatchObject({ key: 'openai/gpt-4o', via: 'base', entry: { input: 2.5e-6 } });
    // OpenAI lists no cache-write price; what is billed for one is shown and marked as derived.
    expect(dated.matches[0].billed).toEqual({ input: 2.5e-6, output: 1e-5, cacheRead: 1.25e-6, cacheWrite5m: 3.125e-6, cacheWrite1h: 5e-6 });
    expect(dated.matches[0].derived).toEqual(['cacheWrite5m', 'cacheWrite1h']);

    const azure = await json<ModelJson>('cost', 'prices', 'azure/gpt-4.5-preview-2025-02-27');
    expect(azure.matches[0]).toMatchObject({ provider: 'azure', key: 'openai/gpt-4.5-preview-2025-02-27', via: 'base' });
  });

  it('without a provider, tries every provider', async () => {
    const both = await json<ModelJson>('cost', 'prices', 'claude-sonnet-4-5');
    expect(both.provider).toBeNull();
    expect(both.matches.map((m) => m.key)).toEqual(['anthropic/claude-sonnet-4-5', 'vertex/claude-sonnet-4-5']);
    const human = await cli('cost', 'prices', 'claude-sonnet-4-5', '--provider', 'anthropic');
    expect(human.code).toBe(0);
    expect(human.stdout).toContain('anthropic/claude-sonnet-4-5: exact entry in the shipped catalog');
    expect(human.stdout).toMatch(/cache write 1h\s+\$6\.00 per 1M tokens/);
    expect(human.stdout).toMatch(/over 200k prompt\s+input \$6\.00, output \$22\.50/);
  });

  it('an unknown model is exit 1 with what to do, in both output modes', async () => {
    const human = await cli('cost', 'prices', 'gpt-4o-mini-nonexistent');
    expect(human.code).toBe(1);
    expect(human.stdout).toBe('');
    expect(human.stderr).toContain('Error (MODEL_UNKNOWN): no price is known for "gpt-4o-mini-nonexistent"');
    expect(human.stderr).toContain('cost.prices');
    const machine = await cli('cost', 'prices', 'anthropic/gpt-4o', '--json');
    expect(machine.code).toBe(1);
    expect(JSON.parse(machine.stdout).error).toMatchObject({ code: 'MODEL_UNKNOWN', message: 'no price is known for "gpt-4o" served by anthropic' });
  });

  it('usage errors are exit 2', async () => {
    expect((await cli('cost', 'prices', 'openai/gpt-4o', '--provider', 'anthropic')).code).toBe(2);
    expect((await cli('cost', 'prices', '--provider', 'mistral')).code).toBe(2);
  });
});

describe('agentguard cost prices import', () => {
  const map = {
    last_updated: '2030-02-01T00:00:00Z',
    'gpt-7': { litellm_provider: 'openai', mode: 'chat', input_cost_per_token: 1e-6, output_cost_per_token: 4e-6 },
    'gpt-4o': { litellm_provider: 'openai', mode: 'chat', input_cost_per_token: 2e-6, output_cost_per_token: 8e-6 },
    'claude-sonnet-4-5': { litellm_provider: 'anthropic', mode: 'chat', input_cost_per_token: 3e-6, output_cost_per_token: 1.5e-5, cache_read_input_token_cost: 3e-7, cache_creation_input_token_cost: 3.75e-6, cache_creation_input_token_cost_above_1hr: 6e-6, input_cost_per_token_above_200k_tokens: 6e-6, output_cost_per_token_above_200k_tokens: 2.25e-5, cache_read_input_token_cost_above_200k_tokens: 6e-7, cache_creation_input_token_cost_above_200k_tokens: 7.5e-6, cache_creation_input_token_cost_above_1hr_above_200k_tokens: 1.2e-5, max_input_tokens: 200000, max_output_tokens: 64000 },
  };

  it('saves a valid map to <data-dir>/prices.json, and cost prices uses it over the shipped catalog', async () => {
    const file = join(cwd, 'newer.json');
    writeFileSync(file, JSON.stringify(map));
    const result = await json<{ saved: string; models: number; byProvider: Record<string, number>; added: number; changed: number; lastUpdated: string }>('cost', 'prices', 'import', file, '--data-dir', dataDir);
    expect(result).toMatchObject({ saved: join(dataDir, 'prices.json'), models: 3, byProvider: { openai: 2, anthropic: 1 }, added: 1, changed: 1, lastUpdated: '2030-02-01T00:00:00Z' });
    expect(existsSync(result.saved)).toBe(true);

    const gpt7 = await json<ModelJson>('cost', 'prices', 'gpt-7', '--data-dir', dataDir);
    expect(gpt7.matches.map((m) => [m.key, m.origin, m.entry.input])).toEqual([
      ['openai/gpt-7', 'imported', 1e-6],
      ['openai/gpt-7', 'imported', 1e-6], // azure falls back to the OpenAI price
    ]);
    const gpt4o = await json<ModelJson>('cost', 'prices', 'openai/gpt-4o', '--data-dir', dataDir);
    expect(gpt4o.matches[0]).toMatchObject({ origin: 'imported', entry: { input: 2e-6 } });
    const list = await json<ListJson>('cost', 'prices', '--provider', 'openai', '--data-dir', dataDir);
    expect(list.sources.map((s) => s.file)).toContain(file);
    expect(list.models.find((m) => m.key === 'openai/gpt-4.1')?.origin).toBe('shipped');
    // Without the data folder, the shipped prices apply.
    expect((await json<ModelJson>('cost', 'prices', 'openai/gpt-4o')).matches[0].entry.input).toBe(2.5e-6);
  });

  it('a bad map is exit 2, names the bad entries by key, and saves nothing', async () => {
    const emptyDir = join(cwd, 'empty-data');
    const file = join(cwd, 'bad.json');
    writeFileSync(file, JSON.stringify({ ...map, 'gpt-broken': { litellm_provider: 'openai', mode: 'chat', input_cost_per_token: 'cheap', output_cost_per_token: 1e-6 } }));
    const result = await cli('cost', 'prices', 'import', file, '--data-dir', emptyDir);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('Error (PRICES_INVALID)');
    expect(result.stderr).toContain('"gpt-broken": input_cost_per_token must be a number of USD per token');
    expect(existsSync(join(emptyDir, 'prices.json'))).toBe(false);

    writeFileSync(file, '{"gpt-7": ');
    expect((await cli('cost', 'prices', 'import', file, '--data-dir', emptyDir)).stderr).toContain('not valid JSON');
    const missing = await cli('cost', 'prices', 'import', join(cwd, 'nope.json'), '--data-dir', emptyDir, '--json');
    expect(missing.code).toBe(2);
    expect(JSON.parse(missing.stdout).error.code).toBe('FILE_NOT_FOUND');
  });

  it('a later import replaces the earlier one', async () => {
    const file = join(cwd, 'only-gpt-8.json');
    writeFileSync(file, JSON.stringify({ 'gpt-8': { litellm_provider: 'openai', input_cost_per_token: 5e-6, output_cost_per_token: 2e-5 } }));
    await json('cost', 'prices', 'import', file, '--data-dir', dataDir);
    const saved = JSON.parse(readFileSync(join(dataDir, 'prices.json'), 'utf8'));
    expect(Object.keys(saved.models)).toEqual(['openai/gpt-8']);
    expect((await cli('cost', 'prices', 'gpt-7', '--data-dir', dataDir)).code).toBe(1);
  });
});
