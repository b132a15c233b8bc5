import { Flags } from '@oclif/core';
import { auditTimeFlags, dataDirFlag, openAuditStore } from '../../cli/audit-flags.js';
import { BaseCommand } from '../../cli/base-command.js';
import { resolveDataDir } from '../../cli/data-dir.js';
import { parseCount, parseTimeBound } from '../../core/audit/filters.js';
import { costSectionName, loadProjectConfig } from '../../core/config/project-config.js';
import { checkCostConfig } from '../../core/cost/config.js';
import { loadPriceCatalog } from '../../core/cost/prices.js';
import { recommend, type Recommendation } from '../../core/cost/recommend.js';

export default class CostRecommendCommand extends BaseCommand {
  static summary = 'Cheaper models for the calls the ledger shows.';
  static description = `Looks for models used for many calls with short prompts and short answers, and suggests the lighter model of the same provider (a mini, nano or haiku model at a third of the price or less). The saving is what those same calls, with the same tokens, would have cost on it. Judge the quality yourself: the ledger knows sizes, not difficulty.`;
  static examples = [{ description: 'Suggestions from the last 30 days', command: '<%= config.bin %> <%= command.id %> --since 30d' }];

  static flags = {
    ...auditTimeFlags,
    'min-calls': Flags.string({ description: 'Fewest calls of a model before it is judged (default 20).', default: '20', helpValue: '<n>' }),
    ...dataDirFlag,
  };

  async run(): Promise<Recommendation[]> {
    const { flags } = await this.parse(CostRecommendCommand);
    const minCalls = parseCount(flags['min-calls'], '--min-calls');
    const since = flags.since === undefined ? undefined : parseTimeBound(flags.since, '--since');
    const until = flags.until === undefined ? undefined : parseTimeBound(flags.until, '--until');
    const project = await loadProjectConfig();
    const settings = checkCostConfig(project.config.cost, costSectionName(project.file));
    const catalog = loadPriceCatalog(await resolveDataDir(flags['data-dir']));
    const store = await openAuditStore(flags['data-dir']);
    let found: Recommendation[];
    try {
      const entries = await store.cost.ledger({ ...(since ? { since } : {}), ...(until ? { until } : {}) });
      found = recommend(entries, { resolve: (provider, model) => catalog.resolve(provider, model, settings.prices), entries: () => catalog.entries() }, { minCalls });
    } finally {
      await store.close();
    }
    if (!this.jsonEnabled()) {
      if (found.length === 0) this.note('No suggestions: no model in this range has enough short calls that a lighter model of its provider would serve for less.');
      for (const r of found) {
        process.stdout.write(`${r.model} → ${r.suggested}: save about $${r.savingUsd.toFixed(2)} of $${r.spentUsd.toFixed(2)} (${Math.round((r.savingUsd / r.spentUsd) * 100)}%)\n  ${r.why}\n`);
      }
    }
    return found;
  }
}
