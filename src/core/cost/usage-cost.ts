/**
 * Token usage → cost in integer nano-dollars. Inputs are already normalised by the clients: `inputTokens` excludes
 * cache reads and writes (OpenAI's prompt_tokens include cached_tokens, so the client subtracts them first), and
 * `outputTokens` includes reasoning tokens, which are therefore never billed a second time.
 */
import { AgentGuardError } from '../errors.js';
import type { CostBreakdown, PriceEntry, TokenPrices, UsageTokens } from './types.js';

/** Prompts longer than this (input + cache read + cache write) are billed at the long-context prices. */
export const LONG_CONTEXT_THRESHOLD = 200_000;

/** Cache-write prices the providers charge when a map does not list them, as multiples of the input price. */
const CACHE_WRITE_5M_MULTIPLE = 1.25;
const CACHE_WRITE_1H_MULTIPLE = 2;

export function usdFromNano(nano: number): number {
  return nano / 1e9;
}

/** USD → nano-dollars, to the nearest nano-dollar (for limits and configured amounts, not for per-call costs). */
export function nanoFromUsd(usd: number): number {
  if (!Number.isFinite(usd)) throw new AgentGuardError('AMOUNT_INVALID', `${usd} is not an amount of USD`);
  return Math.round(usd * 1e9);
}

/**
 * `tokens × pricePerToken` in nano-dollars, rounded up. Prices in the maps are decimal numbers with at most 12
 * decimals (pico-dollars), so they are turned into an integer count of pico-dollars and multiplied exactly;
 * only a price with more digits takes the float path.
 */
export function nanoCost(tokens: number, pricePerToken: number): number {
  if (tokens === 0 || pricePerToken === 0) return 0;
  const pico = pricePerToken * 1e12;
  const picoInt = Math.round(pico);
  if (Math.abs(pico - picoInt) > Math.max(1e-6, picoInt * 1e-12)) return Math.ceil(tokens * pricePerToken * 1e9 - 1e-6);
  const product = tokens * picoInt;
  if (Number.isSafeInteger(product)) {
    const rest = product % 1000;
    return (product - rest) / 1000 + (rest > 0 ? 1 : 0);
  }
  const big = BigInt(tokens) * BigInt(picoInt);
  const nano = (big + 999n) / 1000n;
  if (nano > BigInt(Number.MAX_SAFE_INTEGER)) throw new AgentGuardError('COST_OVERFLOW', `a cost of ${tokens} tokens is too large to count`);
  return Number(nano);
}

interface Rates {
  input: number;
  output: number;
  cacheRead: number;
  cacheWrite5m: number;
  cacheWrite1h: number;
}

/** Drops float noise from a derived price (4e-6 × 1.25 is 4.9999999999999996e-6); prices have few significant digits. */
const tidy = (price: number) => Number(price.toPrecision(12));

/** Standard prices with the documented fallbacks filled in. */
function standardRates(price: TokenPrices): Rates {
  return {
    input: price.input,
    output: price.output,
    // A cache read never costs more than an uncached token, so the input price is a safe upper bound when the map
    // has no cache-read price: it may overcharge, never undercharge.
    cacheRead: price.cacheRead ?? price.input,
    cacheWrite5m: price.cacheWrite5m ?? tidy(price.input * CACHE_WRITE_5M_MULTIPLE),
    cacheWrite1h: price.cacheWrite1h ?? tidy(price.input * CACHE_WRITE_1H_MULTIPLE),
  };
}

/** The standard prices billed per kind of token, with the fallbacks filled in; `derived` names the ones the entry lacks. */
export function billedPrices(price: TokenPrices): { prices: Required<TokenPrices>; derived: Array<keyof TokenPrices> } {
  const derived = (['cacheRead', 'cacheWrite5m', 'cacheWrite1h'] as const).filter((kind) => price[kind] === undefined);
  return { prices: standardRates(price), derived };
}

/**
 * Long-context prices. A cache price the tier leaves out keeps its standard ratio to the input price (a 1-hour write
 * at 2× a standard input stays 2× the long-context input), so a sparse tier never makes cached tokens cheaper.
 */
function longContextRates(standard: Rates, tier: Partial<TokenPrices>): Rates {
  const input = tier.input ?? standard.input;
  const scaled = (rate: number) => (standard.input > 0 ? tidy((rate * input) / standard.input) : rate);
  return {
    input,
    output: tier.output ?? standard.output,
    cacheRead: tier.cacheRead ?? scaled(standard.cacheRead),
    cacheWrite5m: tier.cacheWrite5m ?? scaled(standard.cacheWrite5m),
    cacheWrite1h: tier.cacheWrite1h ?? scaled(standard.cacheWrite1h),
  };
}

function checkCount(name: string, value: number | undefined): number {
  const n = value ?? 0;
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new AgentGuardError('USAGE_INVALID', `token count ${name} must be a whole number, 0 or more (got ${String(value)})`);
  }
  return n;
}

/**
 * What a call cost. Cache writes: the 1-hour ones at `cacheWrite1h` (else 2× input), the rest at `cacheWrite5m`
 * (else 1.25× input); cache reads at `cacheRead` (else input). Over 200k prompt tokens the entry's long-context prices
 * apply to every kind they list. `batch: true` uses the batch input/output prices when the entry has them (the
 * breakdown's `batch` says whether they were used; long-context prices take precedence). Each kind is rounded up to
 * a whole nano-dollar.
 */
export function costOf(tokens: UsageTokens, price: PriceEntry, options: { batch?: boolean } = {}): CostBreakdown {
  const input = checkCount('inputTokens', tokens.inputTokens);
  const output = checkCount('outputTokens', tokens.outputTokens);
  const cacheRead = checkCount('cacheReadInputTokens', tokens.cacheReadInputTokens);
  const cacheWrite = checkCount('cacheCreationInputTokens', tokens.cacheCreationInputTokens);
  const cacheWrite1h = checkCount('cacheCreation1hInputTokens', tokens.cacheCreation1hInputTokens);
  if (cacheWrite1h > cacheWrite) {
    throw new AgentGuardError('USAGE_INVALID', `cacheCreation1hInputTokens (${cacheWrite1h}) is part of cacheCreationInputTokens (${cacheWrite}) and cannot exceed it`);
  }

  const standard = standardRates(price);
  const longContext = input + cacheRead + cacheWrite > LONG_CONTEXT_THRESHOLD && price.above200k !== undefined && Object.keys(price.above200k).length > 0;
  let rates = longContext ? longContextRates(standard, price.above200k ?? {}) : standard;
  let batch = false;
  if (options.batch && !longContext && price.batch && (price.batch.input !== undefined || price.batch.output !== undefined)) {
    rates = { ...rates, input: price.batch.input ?? rates.input, output: price.batch.output ?? rates.output };
    batch = true;
  }

  const inputNano = nanoCost(input, rates.input);
  const outputNano = nanoCost(output, rates.output);
  const cacheReadNano = nanoCost(cacheRead, rates.cacheRead);
  const cacheWriteNano = nanoCost(cacheWrite - cacheWrite1h, rates.cacheWrite5m) + nanoCost(cacheWrite1h, rates.cacheWrite1h);
  return {
    totalNano: inputNano + outputNano + cacheReadNano + cacheWriteNano,
    inputNano,
    outputNano,
    cacheReadNano,
    cacheWriteNano,
    tier: longContext ? 'above_200k' : 'standard',
    batch,
  };
}
