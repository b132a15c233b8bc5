/**
 * The model price catalog: the shipped one (prices/catalog.json, built from the MIT-licensed LiteLLM price map by
 * scripts/build-prices.ts), maps in the LiteLLM format that users import, and how a model id finds its price.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AgentGuardError } from '../errors.js';
import type { PriceEntry, ResolvedPrice, TokenPrices } from './types.js';
import { isPlainObject } from '../plain-object.js';

/** Prices from the project config that win over the catalog, keyed `<provider>/<model>` or bare `<model>`. */
export type PriceOverrides = Record<string, Partial<PriceEntry> & TokenPrices>;

export const PRICE_PROVIDERS = ['openai', 'azure', 'anthropic', 'bedrock', 'vertex'] as const;
export type PriceProvider = (typeof PRICE_PROVIDERS)[number];

/** A price map a catalog was made from. */
export interface PriceOrigin {
  file: string;
  /** The map's own `last_updated`, when it has one. */
  lastUpdated: string | null;
  /** When it was imported with `agentguard cost prices import`. */
  importedAt?: string;
}

/** The layout of prices/catalog.json and of an imported `<dataDir>/prices.json`. */
export interface CatalogFile {
  source: string;
  licence: string;
  generatedFrom: PriceOrigin[];
  models: Record<string, PriceEntry>;
}

export const CATALOG_SOURCE = 'LiteLLM model price map (github.com/BerriAI/litellm, model_prices_and_context_window.json)';
export const CATALOG_LICENCE = 'MIT (BerriAI/litellm)';
/** Name of the imported map inside the data folder. */
export const IMPORTED_PRICES_FILE = 'prices.json';

/** LiteLLM field → where it goes in a PriceEntry. */
const PRICE_FIELDS: ReadonlyArray<readonly [string, 'top' | 'batch' | 'above200k', keyof TokenPrices]> = [
  ['input_cost_per_token', 'top', 'input'],
  ['output_cost_per_token', 'top', 'output'],
  ['cache_read_input_token_cost', 'top', 'cacheRead'],
  ['cache_creation_input_token_cost', 'top', 'cacheWrite5m'],
  ['cache_creation_input_token_cost_above_1hr', 'top', 'cacheWrite1h'],
  ['input_cost_per_token_batches', 'batch', 'input'],
  ['output_cost_per_token_batches', 'batch', 'output'],
  ['input_cost_per_token_above_200k_tokens', 'above200k', 'input'],
  ['output_cost_per_token_above_200k_tokens', 'above200k', 'output'],
  ['cache_read_input_token_cost_above_200k_tokens', 'above200k', 'cacheRead'],
  ['cache_creation_input_token_cost_above_200k_tokens', 'above200k', 'cacheWrite5m'],
  ['cache_creation_input_token_cost_above_1hr_above_200k_tokens', 'above200k', 'cacheWrite1h'],
];
const LIMIT_FIELDS = [
  ['max_input_tokens', 'maxInputTokens'],
  ['max_output_tokens', 'maxOutputTokens'],
] as const;

const isPrice = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0;

/**
 * Where a LiteLLM map entry belongs in the catalog, or undefined when it is not a chat model of a provider we price.
 * `prefixed` marks keys that carry their provider as a path prefix (`bedrock/us.anthropic…`): when the same model
 * is also listed without it, the unprefixed entry is the canonical one.
 */
function catalogKeyOf(key: string, entry: Record<string, unknown>): { key: string; provider: PriceProvider; prefixed: boolean } | undefined {
  const mode = entry.mode;
  if (mode !== undefined && mode !== null && mode !== 'chat' && mode !== 'responses') return undefined;
  const strip = (prefix: string) => (key.startsWith(prefix) ? { id: key.slice(prefix.length), prefixed: true } : { id: key, prefixed: false });
  const make = (provider: PriceProvider, prefix: string) => {
    const { id, prefixed } = strip(prefix);
    return id === '' ? undefined : { key: `${provider}/${id}`, provider, prefixed };
  };
  switch (entry.litellm_provider) {
    case 'openai':
      return make('openai', 'openai/');
    case 'azure':
      // Azure prices are listed as `azure/<id>`; a bare id under provider azure is not a deployment model name.
      return key.startsWith('azure/') ? make('azure', 'azure/') : undefined;
    case 'anthropic':
      return make('anthropic', 'anthropic/');
    case 'bedrock':
    case 'bedrock_converse':
      // Region prefixes (`us.`, `eu.`, `global.`) are separate entries with their own (often higher) prices: keep them.
      return key.includes('anthropic.') ? make('bedrock', 'bedrock/') : undefined;
    case 'vertex_ai-anthropic_models':
      return make('vertex', 'vertex_ai/');
    default:
      return undefined;
  }
}

/** Converts one LiteLLM entry; returns problems instead when a field we read is not a valid number. */
function convertEntry(provider: PriceProvider, raw: Record<string, unknown>): { entry?: PriceEntry; problems: string[] } {
  const problems: string[] = [];
  const top: Partial<TokenPrices> = {};
  const batch: Partial<TokenPrices> = {};
  const above200k: Partial<TokenPrices> = {};
  const groups = { top, batch, above200k };
  for (const [field, group, name] of PRICE_FIELDS) {
    const value = raw[field];
    if (value === undefined || value === null) continue;
    if (!isPrice(value)) problems.push(`${field} must be a number of USD per token, 0 or more (got ${JSON.stringify(value)})`);
    else groups[group][name] = value;
  }
  const limits: Pick<PriceEntry, 'maxInputTokens' | 'maxOutputTokens'> = {};
  for (const [field, name] of LIMIT_FIELDS) {
    const value = raw[field];
    if (value === undefined || value === null) continue;
    if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) problems.push(`${field} must be a whole number above 0 (got ${JSON.stringify(value)})`);
    else limits[name] = value;
  }
  if (problems.length > 0 || top.input === undefined || top.output === undefined) return { problems };
  const entry: PriceEntry = { provider, ...(top as TokenPrices), ...limits };
  if (Object.keys(batch).length > 0) entry.batch = batch as PriceEntry['batch'];
  if (Object.keys(above200k).length > 0) entry.above200k = above200k;
  return { entry, problems };
}

function invalidPrices(origin: string, problems: string[]): AgentGuardError {
  const shown = problems.slice(0, 20).map((p) => `  ${p}`);
  if (problems.length > shown.length) shown.push(`  … and ${problems.length - shown.length} more`);
  return new AgentGuardError('PRICES_INVALID', `${origin}: ${problems.length} price ${problems.length === 1 ? 'entry is' : 'entries are'} not valid:\n${shown.join('\n')}`, {
    actions: ['Fix or remove the entries named above; prices are USD per token (e.g. "input_cost_per_token": 2.5e-06).', 'The expected format is LiteLLM\'s model_prices_and_context_window.json.'],
  });
}

/**
 * A model id's undated base, or undefined when it carries no trailing date. Only a date at the very end is removed
 * (`gpt-4o-2024-08-06`, `claude-sonnet-4-5-20250929`, `claude-sonnet-4-5@20250929`, `gpt-4-0613`), so `gpt-4o` never
 * becomes `gpt-4` and `gpt-4o-mini` never becomes `gpt-4o`. Not stripped: `-latest` (an alias whose snapshot and
 * price move: chatgpt-4o-latest costs twice gpt-4o) and Bedrock's `-v1:0` (the date is not last, and v1/v2 are
 * different models).
 */
export function baseModelId(model: string): string | undefined {
  const validDate = (y: number, m: number, d: number) => y >= 2000 && y <= 2099 && m >= 1 && m <= 12 && d >= 1 && d <= 31;
  let match = /^(.+?)-(\d{4})-(\d{2})-(\d{2})$/.exec(model);
  if (match && validDate(Number(match[2]), Number(match[3]), Number(match[4]))) return match[1];
  match = /^(.+?)[-@](\d{4})(\d{2})(\d{2})$/.exec(model);
  if (match && validDate(Number(match[2]), Number(match[3]), Number(match[4]))) return match[1];
  // OpenAI's older snapshots: `-MMDD`.
  match = /^(.+?)-(\d{2})(\d{2})$/.exec(model);
  if (match && validDate(2000, Number(match[2]), Number(match[3])) && /[a-z]/i.test(match[1])) return match[1];
  return undefined;
}

export class PriceCatalog {
  private static shippedCatalog: PriceCatalog | undefined;
  private readonly models: ReadonlyMap<string, PriceEntry>;
  /** The maps this catalog was made from, oldest first. */
  readonly origins: readonly PriceOrigin[];

  private constructor(models: Map<string, PriceEntry>, origins: PriceOrigin[]) {
    this.models = new Map([...models].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    this.origins = origins;
  }

  /** The catalog shipped in the package (read once, on first use). */
  static shipped(): PriceCatalog {
    if (!PriceCatalog.shippedCatalog) {
      // Same depth from src/core/cost/ and dist/core/cost/: three levels up is the package root.
      const url = new URL('../../../prices/catalog.json', import.meta.url);
      let text: string;
      try {
        text = readFileSync(url, 'utf8');
      } catch (error) {
        throw new AgentGuardError('PRICES_MISSING', `the shipped price catalog is missing (${url.pathname})`, {
          actions: ['Reinstall agentguard; in a source checkout, run `npx tsx scripts/build-prices.ts`.'],
          cause: error,
        });
      }
      PriceCatalog.shippedCatalog = PriceCatalog.fromCatalogFile(JSON.parse(text), url.pathname);
    }
    return PriceCatalog.shippedCatalog;
  }

  /** A catalog from a map in the LiteLLM format; entries of other providers and modes are ignored. */
  static fromLiteLlmMap(json: unknown, origin: string): PriceCatalog {
    if (!isPlainObject(json)) throw invalidPrices(origin, ['the file must hold a JSON object of model id → prices']);
    const models = new Map<string, PriceEntry>();
    const fromPrefixed = new Set<string>();
    const problems: string[] = [];
    for (const key of Object.keys(json).sort()) {
      const raw = json[key];
      if (key === 'sample_spec' || !isPlainObject(raw)) continue;
      const target = catalogKeyOf(key, raw);
      if (!target) continue;
      const { entry, problems: bad } = convertEntry(target.provider, raw);
      problems.push(...bad.map((p) => `"${key}": ${p}`));
      if (!entry) continue;
      if (models.has(target.key) && target.prefixed && !fromPrefixed.has(target.key)) continue;
      models.set(target.key, entry);
      if (target.prefixed) fromPrefixed.add(target.key);
      else fromPrefixed.delete(target.key);
    }
    if (problems.length > 0) throw invalidPrices(origin, problems);
    if (models.size === 0) {
      throw invalidPrices(origin, [`no chat model with input and output prices for ${PRICE_PROVIDERS.join(', ')}`]);
    }
    const lastUpdated = typeof json.last_updated === 'string' ? json.last_updated : null;
    return new PriceCatalog(models, [{ file: origin, lastUpdated }]);
  }

  /** A catalog from the CatalogFile layout (prices/catalog.json, `<dataDir>/prices.json`). */
  static fromCatalogFile(json: unknown, origin: string): PriceCatalog {
    if (!isPlainObject(json) || !isPlainObject(json.models) || !Array.isArray(json.generatedFrom)) {
      throw invalidPrices(origin, ['not a price catalog: expected { "generatedFrom": [...], "models": {...} }']);
    }
    const models = new Map<string, PriceEntry>();
    const problems: string[] = [];
    for (const [key, entry] of Object.entries(json.models)) {
      const slash = key.indexOf('/');
      const ok = isPlainObject(entry) && slash > 0 && entry.provider === key.slice(0, slash) && isCatalogEntry(entry);
      if (ok) models.set(key, entry as unknown as PriceEntry);
      else problems.push(`"${key}": needs "provider" matching the key's prefix, "input" and "output", and only prices of 0 or more`);
    }
    if (problems.length > 0) throw invalidPrices(origin, problems);
    return new PriceCatalog(models, json.generatedFrom as PriceOrigin[]);
  }

  /** This catalog with `over`'s entries replacing or adding to its own. */
  merge(over: PriceCatalog): PriceCatalog {
    return new PriceCatalog(new Map([...this.models, ...over.models]), [...this.origins, ...over.origins]);
  }

  /** Every entry, sorted by key. */
  entries(): Iterable<[string, PriceEntry]> {
    return this.models.entries();
  }

  get size(): number {
    return this.models.size;
  }

  get(key: string): PriceEntry | undefined {
    return this.models.get(key);
  }

  /** The file layout of this catalog (what build-prices and `cost prices import` write). */
  toFile(): CatalogFile {
    return { source: CATALOG_SOURCE, licence: CATALOG_LICENCE, generatedFrom: [...this.origins], models: Object.fromEntries(this.models) };
  }

  /**
   * The price of `model` as served by `provider`: (1) an override for `<provider>/<model>` or bare `<model>`;
   * (2) the exact catalog entry; (3) only when there is none, the undated base of a dated id. Azure models without
   * an `azure/…` entry are priced as the same OpenAI model (`via: 'base'`). Undefined when nothing matches.
   */
  resolve(provider: string, model: string, overrides?: PriceOverrides): ResolvedPrice | undefined {
    const fromCatalog = this.resolveInCatalog(provider, model);
    const overrideKey = [`${provider}/${model}`, model].find((k) => overrides !== undefined && Object.hasOwn(overrides, k));
    if (overrideKey !== undefined && overrides) {
      const limits = fromCatalog ? { maxInputTokens: fromCatalog.entry.maxInputTokens, maxOutputTokens: fromCatalog.entry.maxOutputTokens } : {};
      // An override is a whole price list: cache prices it leaves out follow its own input price, not the catalog's.
      const entry: PriceEntry = { ...dropUndefined(limits), ...overrides[overrideKey], provider };
      return { key: overrideKey, entry, via: 'override' };
    }
    return fromCatalog;
  }

  private resolveInCatalog(provider: string, model: string): ResolvedPrice | undefined {
    const base = baseModelId(model);
    const candidates: Array<[string, ResolvedPrice['via']]> = [[`${provider}/${model}`, 'exact']];
    if (provider === 'azure') candidates.push([`openai/${model}`, 'base']);
    if (base !== undefined) {
      candidates.push([`${provider}/${base}`, 'base']);
      if (provider === 'azure') candidates.push([`openai/${base}`, 'base']);
    }
    for (const [key, via] of candidates) {
      const entry = this.models.get(key);
      if (entry) return { key, entry, via };
    }
    return undefined;
  }
}

/** A PriceEntry as stored in a catalog file: every price a number of 0 or more, limits whole numbers. */
function isCatalogEntry(entry: Record<string, unknown>): boolean {
  const optionalPrices = (v: unknown, keys: readonly string[]) => v === undefined || (isPlainObject(v) && keys.every((k) => v[k] === undefined || isPrice(v[k])));
  const limit = (v: unknown) => v === undefined || (typeof v === 'number' && Number.isInteger(v) && v > 0);
  return (
    isPrice(entry.input) &&
    isPrice(entry.output) &&
    optionalPrices(entry, ['cacheRead', 'cacheWrite5m', 'cacheWrite1h']) &&
    optionalPrices(entry.batch, ['input', 'output']) &&
    optionalPrices(entry.above200k, ['input', 'output', 'cacheRead', 'cacheWrite5m', 'cacheWrite1h']) &&
    limit(entry.maxInputTokens) &&
    limit(entry.maxOutputTokens)
  );
}

function dropUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** The map saved by `agentguard cost prices import` in a data folder, or undefined when there is none. */
export function loadImportedPrices(dataDir: string): PriceCatalog | undefined {
  const file = join(dataDir, IMPORTED_PRICES_FILE);
  if (!existsSync(file)) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new AgentGuardError('PRICES_INVALID', `${file}: cannot be read as JSON (${(error as Error).message})`, {
      actions: ['Import the price map again with `agentguard cost prices import <file>`, or delete this file to use the shipped prices.'],
      cause: error,
    });
  }
  return PriceCatalog.fromCatalogFile(json, file);
}

/** The prices in effect for a data folder: the imported map (if any) over the shipped catalog. */
export function loadPriceCatalog(dataDir?: string): PriceCatalog {
  const imported = dataDir === undefined ? undefined : loadImportedPrices(dataDir);
  return imported ? PriceCatalog.shipped().merge(imported) : PriceCatalog.shipped();
}
