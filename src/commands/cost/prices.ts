import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import { dataDirFlag, resolveDataDir } from '../../cli/data-dir.js';
import { paint } from '../../cli/style.js';
import { loadPriceOverrides } from '../../core/cost/overrides.js';
import { loadImportedPrices, PRICE_PROVIDERS, PriceCatalog, type PriceOrigin, type PriceOverrides } from '../../core/cost/prices.js';
import type { PriceEntry, PriceSource, TokenPrices } from '../../core/cost/types.js';
import { billedPrices } from '../../core/cost/usage-cost.js';
import { AgentGuardError } from '../../core/errors.js';
import { renderTable } from '../../cli/table.js';

/** Where a price row comes from: the catalog shipped in the package, a map imported into the data folder, or the config. */
export type PriceOriginKind = 'shipped' | 'imported' | 'override';

/** `--json` without MODEL: every known model (USD per token), filtered by --provider. */
export interface CostPricesListResult {
  unit: 'USD per token';
  sources: PriceOrigin[];
  models: Array<{ key: string; origin: PriceOriginKind } & PriceEntry>;
}

/** `--json` with MODEL: how each provider that knows it prices it. */
export interface CostPricesModelResult {
  unit: 'USD per token';
  model: string;
  /** The provider asked for; null when none was given and every provider was tried. */
  provider: string | null;
  matches: Array<{
    provider: string;
    /** The catalog or override key that priced it. */
    key: string;
    via: PriceSource;
    origin: PriceOriginKind;
    entry: PriceEntry;
    /** Standard prices billed per kind of token, cache prices the entry lacks filled in (see `derived`). */
    billed: Required<TokenPrices>;
    derived: Array<keyof TokenPrices>;
  }>;
}

const messages = {
  summary: 'Show the model prices agentguard uses to count costs, or how one model is priced.',
  description: `Without MODEL, lists the known models with their prices in USD per million tokens. With MODEL (e.g. gpt-4o, openai/gpt-4o, claude-sonnet-4-5-20250929), shows the prices that apply to it and how they were found: an override from "cost.prices" in agentguard.config.json, the exact catalog entry, or the undated base of a dated id (gpt-4o-2024-08-06 → gpt-4o). Azure models without their own price use the OpenAI price of the same model.

Prices come from the catalog shipped with agentguard (built from the MIT-licensed LiteLLM price map), with a map imported by \`agentguard cost prices import\` over it. --json gives prices in USD per token, as stored.`,
  unknown: (model: string, provider: string | null) => `no price is known for "${model}"${provider ? ` served by ${provider}` : ''}`,
};

export default class CostPrices extends BaseCommand {
  static summary = messages.summary;
  static description = messages.description;
  static examples = [
    { description: 'All OpenAI prices', command: '<%= config.bin %> <%= command.id %> --provider openai' },
    { description: 'How a dated model id is priced', command: '<%= config.bin %> <%= command.id %> gpt-4o-2024-08-06' },
    { description: 'An Azure deployment model, as JSON', command: '<%= config.bin %> <%= command.id %> azure/gpt-4.1 --json' },
  ];

  static args = {
    model: Args.string({ description: 'A model id, optionally prefixed by its provider (openai/gpt-4o).', required: false }),
  };

  static flags = {
    provider: Flags.string({ description: 'Only this provider.', options: [...PRICE_PROVIDERS] }),
    ...dataDirFlag,
  };

  async run(): Promise<CostPricesListResult | CostPricesModelResult> {
    const { args, flags } = await this.parse(CostPrices);
    const dataDir = await resolveDataDir(flags['data-dir']);
    const imported = loadImportedPrices(dataDir);
    const catalog = imported ? PriceCatalog.shipped().merge(imported) : PriceCatalog.shipped();
    const overrides = await loadPriceOverrides();
    const originOf = (via: PriceSource, key: string): PriceOriginKind => (via === 'override' ? 'override' : imported?.get(key) ? 'imported' : 'shipped');

    if (args.model === undefined) {
      const result = listPrices(catalog, overrides, flags.provider, originOf);
      if (!this.jsonEnabled()) {
        process.stdout.write(renderPriceTable(result));
        this.note(`Prices in USD per 1M tokens. Source: ${describeSources(result.sources)}.`);
      }
      return result;
    }

    const { provider, model } = splitModel(args.model, flags.provider);
    const providers = provider === null ? PRICE_PROVIDERS : [provider];
    const matches: CostPricesModelResult['matches'] = [];
    for (const p of providers) {
      const found = catalog.resolve(p, model, overrides);
      if (!found) continue;
      matches.push({ provider: p, key: found.key, via: found.via, origin: originOf(found.via, found.key), entry: found.entry, ...billed(found.entry) });
    }
    if (matches.length === 0) {
      throw new AgentGuardError('MODEL_UNKNOWN', messages.unknown(model, provider), {
        actions: [
          'Check the spelling; `agentguard cost prices` lists the known models.',
          'Add its price to "cost.prices" in agentguard.config.json (USD per token), or import a newer price map with `agentguard cost prices import <file>`.',
          'While a budget applies, calls to a model without a price are denied unless cost.unknownModels says otherwise.',
        ],
      });
    }
    const result: CostPricesModelResult = { unit: 'USD per token', model, provider, matches };
    if (!this.jsonEnabled()) process.stdout.write(renderMatches(result));
    return result;
  }
}

function billed(entry: PriceEntry): { billed: Required<TokenPrices>; derived: Array<keyof TokenPrices> } {
  const { prices, derived } = billedPrices(entry);
  return { billed: prices, derived };
}

/** `openai/gpt-4o` → provider openai; a bare id takes --provider, or none (every provider is tried). */
function splitModel(arg: string, flag: string | undefined): { provider: string | null; model: string } {
  const slash = arg.indexOf('/');
  const prefix = slash > 0 ? arg.slice(0, slash) : '';
  if ((PRICE_PROVIDERS as readonly string[]).includes(prefix)) {
    if (flag !== undefined && flag !== prefix) {
      throw new AgentGuardError('USAGE', `"${arg}" names provider ${prefix} but --provider is ${flag}`, { actions: ['Give the provider once: either as a prefix of MODEL or with --provider.'] });
    }
    return { provider: prefix, model: arg.slice(slash + 1) };
  }
  return { provider: flag ?? null, model: arg };
}

function listPrices(
  catalog: PriceCatalog,
  overrides: PriceOverrides,
  provider: string | undefined,
  originOf: (via: PriceSource, key: string) => PriceOriginKind,
): CostPricesListResult {
  const models: CostPricesListResult['models'] = [];
  for (const [key, entry] of catalog.entries()) {
    if (provider === undefined || entry.provider === provider) models.push({ key, origin: originOf('exact', key), ...entry });
  }
  for (const [key, entry] of Object.entries(overrides)) {
    const slash = key.indexOf('/');
    const own = slash > 0 ? key.slice(0, slash) : '*';
    if (provider !== undefined && own !== '*' && own !== provider) continue;
    const at = models.findIndex((m) => m.key === key);
    const row = { key, origin: 'override' as const, ...entry, provider: own };
    if (at >= 0) models[at] = row;
    else models.push(row);
  }
  return { unit: 'USD per token', sources: [...catalog.origins], models };
}

/** USD per token → `$2.50` per million tokens, without float noise (`$0.075`, `$3.125`). */
function perMillion(price: number | undefined): string {
  if (price === undefined) return '-';
  const value = Number((price * 1e6).toPrecision(12));
  const cents = Math.round(value * 100) / 100;
  return `$${cents === value ? value.toFixed(2) : String(value)}`;
}

function describeSources(sources: readonly PriceOrigin[]): string {
  return sources.map((s) => `${s.file}${s.lastUpdated ? ` (updated ${s.lastUpdated.slice(0, 10)})` : ''}${s.importedAt ? ` imported ${s.importedAt.slice(0, 10)}` : ''}`).join(', ');
}

function renderPriceTable(result: CostPricesListResult): string {
  const header = ['MODEL', 'INPUT', 'OUTPUT', 'CACHE READ', 'CACHE WRITE', 'MAX OUTPUT'];
  const rows = result.models.map((m) => [
    m.origin === 'override' ? `${m.key} (override)` : m.origin === 'imported' ? `${m.key} (imported)` : m.key,
    perMillion(m.input),
    perMillion(m.output),
    perMillion(m.cacheRead),
    perMillion(m.cacheWrite5m),
    m.maxOutputTokens === undefined ? '-' : m.maxOutputTokens.toLocaleString('en-US'),
  ]);
  if (rows.length === 0) return 'No prices known for this provider.\n';
  return renderTable(header, rows, { align: ['left', 'right', 'right', 'right', 'right', 'right'] });
}

function howFound(match: CostPricesModelResult['matches'][number], model: string): string {
  if (match.via === 'override') return `override from agentguard.config.json (cost.prices "${match.key}")`;
  if (match.via === 'exact') return `exact entry in the ${match.origin} catalog`;
  return `no entry for ${match.provider}/${model}; priced as ${match.key} (${match.origin} catalog)`;
}

function renderMatches(result: CostPricesModelResult): string {
  const out: string[] = [];
  const unit = ' per 1M tokens';
  for (const m of result.matches) {
    const { entry, billed: b } = m;
    out.push(`${paint.bold(`${m.provider}/${result.model}`)}: ${howFound(m, result.model)}`);
    const derivedNote: Record<string, string> = { cacheRead: '(not listed: billed as input)', cacheWrite5m: '(not listed: 1.25 × input)', cacheWrite1h: '(not listed: 2 × input)' };
    const row = (label: string, value: string, note = '') => out.push(`  ${label.padEnd(18)}${value}${note ? `  ${note}` : ''}`);
    row('input', perMillion(b.input) + unit);
    row('output', perMillion(b.output) + unit);
    for (const [kind, label] of [['cacheRead', 'cache read'], ['cacheWrite5m', 'cache write 5m'], ['cacheWrite1h', 'cache write 1h']] as const) {
      row(label, perMillion(b[kind]) + unit, m.derived.includes(kind) ? derivedNote[kind] : '');
    }
    if (entry.batch) row('batch', `input ${perMillion(entry.batch.input)}, output ${perMillion(entry.batch.output)}${unit}`);
    if (entry.above200k) {
      const t = entry.above200k;
      const labels = { input: 'input', output: 'output', cacheRead: 'cache read', cacheWrite5m: 'cache write 5m', cacheWrite1h: 'cache write 1h' } as const;
      const parts = (Object.keys(labels) as Array<keyof typeof labels>).filter((k) => t[k] !== undefined).map((k) => `${labels[k]} ${perMillion(t[k])}`);
      row('over 200k prompt', `${parts.join(', ')}${unit}`);
    }
    const limits = [entry.maxInputTokens && `input ${entry.maxInputTokens.toLocaleString('en-US')}`, entry.maxOutputTokens && `output ${entry.maxOutputTokens.toLocaleString('en-US')}`].filter(Boolean);
    if (limits.length > 0) row('max tokens', limits.join(', '));
    out.push('');
  }
  return out.join('\n');
}
