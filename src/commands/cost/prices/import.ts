import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Args } from '@oclif/core';
import { BaseCommand } from '../../../cli/base-command.js';
import { dataDirFlag, resolveDataDir } from '../../../cli/data-dir.js';
import { IMPORTED_PRICES_FILE, PriceCatalog } from '../../../core/cost/prices.js';
import type { PriceEntry } from '../../../core/cost/types.js';
import { AgentGuardError } from '../../../core/errors.js';
import { tempPathFor } from '../../../core/temp-path.js';

/** `--json` output: what was saved and how it differs from the shipped catalog. */
export interface CostPricesImportResult {
  /** The file written: `<dataDir>/prices.json`. */
  saved: string;
  from: string;
  lastUpdated: string | null;
  models: number;
  byProvider: Record<string, number>;
  /** Models the shipped catalog does not have. */
  added: number;
  /** Models whose prices or limits differ from the shipped catalog. */
  changed: number;
}

export default class CostPricesImport extends BaseCommand {
  static summary = 'Import a newer model price map (LiteLLM format) into the data folder.';
  static description = `FILE is a price map in the format of LiteLLM's model_prices_and_context_window.json. Its chat models from OpenAI, Azure, Anthropic, and Anthropic on Bedrock and Vertex are checked (a bad entry is reported with its key, and nothing is saved) and saved as prices.json in the data folder, replacing any earlier import. From then on they are used over the shipped catalog; "cost.prices" in agentguard.config.json still wins over both.`;
  static examples = [
    { description: 'Use the latest LiteLLM prices', command: 'curl -sO https://raw.githubusercontent.com/BerriAI/litellm/main/model_prices_and_context_window.json && <%= config.bin %> <%= command.id %> model_prices_and_context_window.json' },
  ];

  static args = {
    file: Args.string({ description: 'The price map (JSON, LiteLLM format).', required: true }),
  };

  static flags = { ...dataDirFlag };

  async run(): Promise<CostPricesImportResult> {
    const { args, flags } = await this.parse(CostPricesImport);
    const from = resolve(args.file);
    const catalog = PriceCatalog.fromLiteLlmMap(readJson(from), from);
    const dataDir = await resolveDataDir(flags['data-dir']);
    const saved = join(dataDir, IMPORTED_PRICES_FILE);
    const origin = { ...catalog.origins[0], importedAt: new Date().toISOString() };

    mkdirSync(dataDir, { recursive: true });
    const temp = tempPathFor(saved);
    writeFileSync(temp, `${JSON.stringify({ ...catalog.toFile(), generatedFrom: [origin] }, null, 2)}\n`);
    renameSync(temp, saved);

    const shipped = PriceCatalog.shipped();
    const byProvider: Record<string, number> = {};
    let added = 0;
    let changed = 0;
    for (const [key, entry] of catalog.entries()) {
      byProvider[entry.provider] = (byProvider[entry.provider] ?? 0) + 1;
      const before = shipped.get(key);
      if (!before) added++;
      else if (!sameEntry(before, entry)) changed++;
    }
    const result: CostPricesImportResult = { saved, from, lastUpdated: origin.lastUpdated, models: catalog.size, byProvider, added, changed };
    this.note(
      `Imported ${result.models} model prices from ${from}${result.lastUpdated ? ` (updated ${result.lastUpdated})` : ''} into ${saved}: ` +
        `${added} not in the shipped catalog, ${changed} with different prices. They are used over the shipped prices from now on.`,
    );
    return result;
  }
}

function readJson(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new AgentGuardError('FILE_NOT_FOUND', `cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`, {
      actions: ['Check the path to the price map.'],
      cause: error,
    });
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new AgentGuardError('PRICES_INVALID', `${file}: not valid JSON (${(error as Error).message})`, {
      actions: ['Give a price map in the LiteLLM format (model_prices_and_context_window.json).'],
      cause: error,
    });
  }
}

/** Entries compared by value, whatever the order of their fields. */
function sameEntry(a: PriceEntry, b: PriceEntry): boolean {
  const canonical = (v: unknown): unknown =>
    v !== null && typeof v === 'object' ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, canonical((v as Record<string, unknown>)[k])])) : v;
  return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
}
