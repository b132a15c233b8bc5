import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PriceCatalog } from '../src/core/cost/prices.js';
import type { PriceEntry, UsageTokens } from '../src/core/cost/types.js';
import { billedPrices, costOf, nanoCost, nanoFromUsd, usdFromNano } from '../src/core/cost/usage-cost.js';

// Prices as in the shared LiteLLM maps (USD per token).
const GPT_4O: PriceEntry = { provider: 'openai', input: 2.5e-6, output: 1e-5, cacheRead: 1.25e-6, batch: { input: 1.25e-6, output: 5e-6 }, maxOutputTokens: 16384 };
const SONNET_4_5: PriceEntry = {
  provider: 'anthropic',
  input: 3e-6,
  output: 1.5e-5,
  cacheRead: 3e-7,
  cacheWrite5m: 3.75e-6,
  cacheWrite1h: 6e-6,
  above200k: { input: 6e-6, output: 2.25e-5, cacheRead: 6e-7, cacheWrite5m: 7.5e-6, cacheWrite1h: 1.2e-5 },
};
const O4_MINI: PriceEntry = { provider: 'openai', input: 1.1e-6, output: 4.4e-6, cacheRead: 2.75e-7 };

const usage = (u: Partial<UsageTokens>): UsageTokens => ({ inputTokens: 0, outputTokens: 0, cacheReadInputTokens: 0, cacheCreationInputTokens: 0, ...u });

describe('costOf: hand-computed figures', () => {
  it('an OpenAI call with cached tokens: prompt_tokens 10,000 of which 6,000 cached, 500 out', () => {
    // The client passes inputTokens = 10,000 - 6,000 cached.
    const cost = costOf(usage({ inputTokens: 4_000, cacheReadInputTokens: 6_000, outputTokens: 500 }), GPT_4O);
    // 4,000 × $2.50/M = $0.01; 6,000 × $1.25/M = $0.0075; 500 × $10/M = $0.005.
    expect(cost).toEqual({ inputNano: 10_000_000, cacheReadNano: 7_500_000, cacheWriteNano: 0, outputNano: 5_000_000, totalNano: 22_500_000, tier: 'standard', batch: false });
    expect(usdFromNano(cost.totalNano)).toBe(0.0225);
  });

  it('an Anthropic call with 5-minute and 1-hour cache writes and cache reads', () => {
    const tokens = usage({ inputTokens: 1_200, cacheReadInputTokens: 50_000, cacheCreationInputTokens: 10_000, cacheCreation1hInputTokens: 4_000, outputTokens: 800 });
    const cost = costOf(tokens, SONNET_4_5);
    // input 1,200 × $3/M = 3.6M nano; reads 50,000 × $0.30/M = 15M; 5m writes 6,000 × $3.75/M = 22.5M;
    // 1h writes 4,000 × $6/M = 24M; output 800 × $15/M = 12M.
    expect(cost).toEqual({ inputNano: 3_600_000, cacheReadNano: 15_000_000, cacheWriteNano: 46_500_000, outputNano: 12_000_000, totalNano: 77_100_000, tier: 'standard', batch: false });
  });

  it('cache writes without listed prices cost 1.25× (5m) and 2× (1h) input; reads without a price cost the input price', () => {
    const bare: PriceEntry = { provider: 'anthropic', input: 4e-6, output: 2e-5 };
    const cost = costOf(usage({ cacheReadInputTokens: 1_000, cacheCreationInputTokens: 3_000, cacheCreation1hInputTokens: 1_000 }), bare);
    expect(cost.cacheReadNano).toBe(4_000_000); // 1,000 × $4/M
    expect(cost.cacheWriteNano).toBe(2_000 * 5_000 + 1_000 * 8_000); // $5/M and $8/M
    expect(billedPrices(bare)).toEqual({ prices: { input: 4e-6, output: 2e-5, cacheRead: 4e-6, cacheWrite5m: 5e-6, cacheWrite1h: 8e-6 }, derived: ['cacheRead', 'cacheWrite5m', 'cacheWrite1h'] });
  });

  it('reasoning tokens are inside outputTokens and are not billed twice', () => {
    const withReasoning = costOf(usage({ inputTokens: 100, outputTokens: 2_000, reasoningTokens: 1_500 }), O4_MINI);
    const without = costOf(usage({ inputTokens: 100, outputTokens: 2_000 }), O4_MINI);
    expect(withReasoning.outputNano).toBe(8_800_000); // 2,000 × $4.40/M
    expect(withReasoning).toEqual(without);
    expect(withReasoning.totalNano).toBe(110_000 + 8_800_000);
  });

  it('over 200k prompt tokens every kind uses its long-context price', () => {
    const tokens = usage({ inputTokens: 150_000, cacheReadInputTokens: 40_000, cacheCreationInputTokens: 20_000, outputTokens: 1_000 });
    const cost = costOf(tokens, SONNET_4_5);
    // 150,000 × $6/M = 0.9B; 40,000 × $0.60/M = 24M; 20,000 × $7.50/M = 150M; 1,000 × $22.50/M = 22.5M.
    expect(cost).toEqual({ inputNano: 900_000_000, cacheReadNano: 24_000_000, cacheWriteNano: 150_000_000, outputNano: 22_500_000, totalNano: 1_096_500_000, tier: 'above_200k', batch: false });
  });

  it('exactly 200,000 prompt tokens is still the standard tier', () => {
    const cost = costOf(usage({ inputTokens: 200_000 }), SONNET_4_5);
    expect(cost.tier).toBe('standard');
    expect(cost.totalNano).toBe(600_000_000);
    expect(costOf(usage({ inputTokens: 200_001 }), SONNET_4_5).totalNano).toBe(200_001 * 6_000);
  });

  it('a cache price missing from the long-context tier keeps its ratio to input (never cheaper than standard)', () => {
    const sparse: PriceEntry = { ...SONNET_4_5, above200k: { input: 6e-6, output: 2.25e-5 } };
    const cost = costOf(usage({ inputTokens: 200_000, cacheCreationInputTokens: 1_000, cacheCreation1hInputTokens: 1_000 }), sparse);
    // 1h write is 2× input in the standard tier ($6 vs $3), so 2 × $6 = $12/M over 200k.
    expect(cost.cacheWriteNano).toBe(12_000_000);
    expect(cost.inputNano).toBe(1_200_000_000);
  });

  it('batch uses the batch prices when the entry has them', () => {
    const cost = costOf(usage({ inputTokens: 100_000, outputTokens: 10_000 }), GPT_4O, { batch: true });
    // 100,000 × $1.25/M = 125M; 10,000 × $5/M = 50M.
    expect(cost).toMatchObject({ inputNano: 125_000_000, outputNano: 50_000_000, totalNano: 175_000_000, batch: true });
    const noBatchPrices = costOf(usage({ inputTokens: 100_000, outputTokens: 10_000 }), O4_MINI, { batch: true });
    expect(noBatchPrices).toMatchObject({ inputNano: 110_000_000, outputNano: 44_000_000, batch: false });
  });

  it('rounds each kind up to a whole nano-dollar', () => {
    const tiny: PriceEntry = { provider: 'openai', input: 3.75e-10, output: 3.75e-10 }; // 0.375 nano per token
    expect(costOf(usage({ inputTokens: 1 }), tiny).totalNano).toBe(1);
    expect(costOf(usage({ inputTokens: 3 }), tiny).totalNano).toBe(2); // 1.125 → 2
    expect(costOf(usage({ inputTokens: 8 }), tiny).totalNano).toBe(3); // exactly 3
    expect(costOf(usage({ inputTokens: 1, outputTokens: 1 }), tiny).totalNano).toBe(2); // 1 + 1, not ceil(0.75)
  });

  it('is exact where floating point is not: 7 × $1.10/M is 7,700 nano, not 7,701', () => {
    expect(7 * 1.1e-6 * 1e9).toBeGreaterThan(7700); // the naive product overshoots
    expect(nanoCost(7, 1.1e-6)).toBe(7_700);
    expect(nanoCost(1_000, 3e-7)).toBe(300_000);
    expect(nanoCost(3, 1.1e-6)).toBe(3_300);
    // Counts whose product with the price overflows 2^53 pico-dollars still come out exact.
    expect(nanoCost(9_000_000_000, 6e-4)).toBe(5_400_000_000_000_000); // $5.4M
  });

  it('rejects impossible token counts', () => {
    expect(() => costOf(usage({ inputTokens: -1 }), GPT_4O)).toThrow(/inputTokens/);
    expect(() => costOf(usage({ outputTokens: 1.5 }), GPT_4O)).toThrow(/outputTokens/);
    expect(() => costOf(usage({ cacheCreationInputTokens: 10, cacheCreation1hInputTokens: 11 }), SONNET_4_5)).toThrow(/cannot exceed/);
  });

  it('converts between USD and nano-dollars', () => {
    expect(nanoFromUsd(50)).toBe(50_000_000_000);
    expect(nanoFromUsd(0.1)).toBe(100_000_000);
    expect(nanoFromUsd(764.78)).toBe(764_780_000_000);
    expect(usdFromNano(1_096_500_000)).toBe(1.0965);
    expect(() => nanoFromUsd(Number.NaN)).toThrow();
  });
});

describe('costOf: properties over the shipped catalog', () => {
  const entries = [...PriceCatalog.shipped().entries()].map(([, entry]) => entry);
  const count = fc.integer({ min: 0, max: 320_000 });
  const tokensArb = fc.record({ input: count, output: count, cacheRead: count, write5m: count, write1h: count });
  const toUsage = (t: { input: number; output: number; cacheRead: number; write5m: number; write1h: number }): UsageTokens =>
    usage({ inputTokens: t.input, outputTokens: t.output, cacheReadInputTokens: t.cacheRead, cacheCreationInputTokens: t.write5m + t.write1h, cacheCreation1hInputTokens: t.write1h });
  const kinds = ['input', 'output', 'cacheRead', 'write5m', 'write1h'] as const;

  it('is never negative, and never falls when any token count grows', () => {
    fc.assert(
      fc.property(fc.constantFrom(...entries), tokensArb, fc.constantFrom(...kinds), fc.integer({ min: 1, max: 250_000 }), fc.boolean(), (entry, t, kind, delta, batch) => {
        const before = costOf(toUsage(t), entry, { batch });
        const after = costOf(toUsage({ ...t, [kind]: t[kind] + delta }), entry, { batch });
        expect(before.totalNano).toBeGreaterThanOrEqual(0);
        expect(after.totalNano).toBeGreaterThanOrEqual(before.totalNano);
      }),
      { numRuns: 2_000 },
    );
  });

  it('each kind is the exact product rounded up, and the total is their sum', () => {
    fc.assert(
      fc.property(fc.constantFrom(...entries), tokensArb, (entry, t) => {
        const cost = costOf(toUsage(t), entry);
        expect(cost.totalNano).toBe(cost.inputNano + cost.outputNano + cost.cacheReadNano + cost.cacheWriteNano);
        const tierInput = cost.tier === 'above_200k' ? (entry.above200k?.input ?? entry.input) : entry.input;
        const exact = t.input * tierInput * 1e9;
        expect(cost.inputNano).toBeGreaterThanOrEqual(exact - 1e-3);
        expect(cost.inputNano).toBeLessThan(exact + 1 + 1e-3);
      }),
      { numRuns: 1_000 },
    );
  });
});
