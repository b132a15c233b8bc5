import type { LedgerEntry, PriceEntry, ResolvedPrice } from './types.js';
import { costOf } from './usage-cost.js';

/** A cheaper model for calls the ledger shows, with what the same calls would have cost on it. */
export interface Recommendation {
  /** `<provider>/<model>` as the ledger has it. */
  model: string;
  suggested: string;
  calls: number;
  spentUsd: number;
  /** The same calls (same tokens) priced at the suggested model. */
  estimatedUsd: number;
  savingUsd: number;
  why: string;
}

export interface RecommendOptions {
  /** Fewest calls of a model before it is judged (default 20). */
  minCalls?: number;
  /** Average prompt tokens at or under which prompts count as short (default 2,000). */
  shortPrompt?: number;
  /** Average output tokens at or under which answers count as short (default 500). */
  shortAnswer?: number;
}

/** Prices as recommend() reads them: resolution (overrides included) and the catalog's entries. */
export interface PriceLookup {
  resolve(provider: string, model: string): ResolvedPrice | undefined;
  entries(): Iterable<[string, PriceEntry]>;
}

/** Smaller siblings: the mini, nano and haiku models, undated, at a third of the price or less. */
const LIGHT = /(?:^|[-.])(mini|nano|haiku)(?:[-.]|$)/;
const DATED = /-\d{4}-?\d{2}-?\d{2}(?:$|-)/;

function commonPrefix(a: string, b: string): number {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return i;
}

/** The lighter model of the same provider whose name is closest to `model` (`gpt-4o` → `gpt-4o-mini`). */
function lighterSibling(catalog: PriceLookup, provider: string, model: string, price: PriceEntry): [string, PriceEntry] | undefined {
  let best: [string, PriceEntry, number] | undefined;
  for (const [key, entry] of catalog.entries()) {
    const [keyProvider, id] = [key.slice(0, key.indexOf('/')), key.slice(key.indexOf('/') + 1)];
    if (keyProvider !== provider || id === model || !LIGHT.test(id) || DATED.test(id)) continue;
    if (!(entry.input * 3 <= price.input && entry.output * 3 <= price.output)) continue;
    const score = commonPrefix(id, model);
    if (!best || score > best[2] || (score === best[2] && entry.input + entry.output < best[1].input + best[1].output)) best = [key, entry, score];
  }
  return best && [best[0], best[1]];
}

/**
 * Where the ledger shows a pattern a cheaper model serves as well: many calls with short prompts and short answers on
 * an expensive model. The saving is the ledger's actual spend minus the same tokens priced at the suggestion.
 */
export function recommend(entries: LedgerEntry[], catalog: PriceLookup, options: RecommendOptions = {}): Recommendation[] {
  const minCalls = options.minCalls ?? 20;
  const shortPrompt = options.shortPrompt ?? 2_000;
  const shortAnswer = options.shortAnswer ?? 500;
  const byModel = new Map<string, LedgerEntry[]>();
  for (const entry of entries) {
    if (entry.priced === 'unpriced') continue;
    const key = `${entry.provider}/${entry.model}`;
    byModel.set(key, [...(byModel.get(key) ?? []), entry]);
  }
  const out: Recommendation[] = [];
  for (const [key, calls] of byModel) {
    if (calls.length < minCalls) continue;
    const { provider, model } = calls[0]!;
    const price = catalog.resolve(provider, model);
    if (!price) continue;
    const prompt = calls.reduce((n, c) => n + c.tokens.inputTokens + c.tokens.cacheReadInputTokens + c.tokens.cacheCreationInputTokens, 0) / calls.length;
    const answer = calls.reduce((n, c) => n + c.tokens.outputTokens, 0) / calls.length;
    if (prompt > shortPrompt || answer > shortAnswer) continue;
    const sibling = lighterSibling(catalog, provider, price.key.slice(price.key.indexOf('/') + 1), price.entry);
    if (!sibling) continue;
    const spentNano = calls.reduce((n, c) => n + c.costNano, 0);
    const estimatedNano = calls.reduce((n, c) => n + costOf(c.tokens, sibling[1]).totalNano, 0);
    if (estimatedNano >= spentNano) continue;
    out.push({
      model: key,
      suggested: sibling[0],
      calls: calls.length,
      spentUsd: spentNano / 1e9,
      estimatedUsd: estimatedNano / 1e9,
      savingUsd: (spentNano - estimatedNano) / 1e9,
      why: `${calls.length} calls averaging ${Math.round(prompt)} prompt and ${Math.round(answer)} output tokens: short work that ${sibling[0]} is built for`,
    });
  }
  return out.sort((a, b) => b.savingUsd - a.savingUsd);
}
