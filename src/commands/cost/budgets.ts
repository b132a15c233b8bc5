import { resolve } from 'node:path';
import { Flags } from '@oclif/core';
import { dataDirFlag, openAuditStore } from '../../cli/audit-flags.js';
import { BaseCommand } from '../../cli/base-command.js';
import { bar } from '../../cli/cost-render.js';
import { costSectionName, loadProjectConfig, readProjectConfig } from '../../core/config/project-config.js';
import { budgetStatus, type BudgetStatus } from '../../core/cost/budget-status.js';
import { checkCostConfig } from '../../core/cost/config.js';
import { renderTable } from '../../cli/table.js';
import { formatUsd as usd } from '../../core/cost/format-usd.js';

export default class CostBudgetsCommand extends BaseCommand {
  static summary = 'Spend, calls in flight and what is left of each budget.';
  static description = `Reads the budgets from "cost.budgets" in agentguard.config.json and the ledger from the data folder. Spent is what finished calls cost in the current period; reserved is what calls in flight may still cost (each reserves its most possible cost before it is sent); a call is denied when spent + reserved + its own most possible cost would pass the limit.

A budget without an "id" limits each project, agent, user or session on its own: it is listed once per value that spent in the current period.`;
  static examples = [{ description: 'Where every budget stands', command: '<%= config.bin %> <%= command.id %>' }];

  static flags = {
    config: Flags.string({ description: 'Project config file (default: agentguard.config.json found from the current folder).', helpValue: '<file>' }),
    ...dataDirFlag,
  };

  async run(): Promise<BudgetStatus[]> {
    const { flags } = await this.parse(CostBudgetsCommand);
    const project = flags.config === undefined ? await loadProjectConfig() : await readProjectConfig(resolve(flags.config));
    const settings = checkCostConfig(project.config.cost, costSectionName(project.file));
    if (settings.budgets.length === 0) {
      this.note('No budgets are configured. Add "cost": { "budgets": [{ "scope": "global", "period": "month", "limitUsd": 100 }] } to agentguard.config.json.');
      return [];
    }
    const store = await openAuditStore(flags['data-dir'] ?? (flags.config === undefined ? undefined : project.paths.dataDir));
    let status: BudgetStatus[];
    try {
      status = await budgetStatus(settings.budgets, store.cost, new Date());
    } finally {
      await store.close();
    }
    if (!this.jsonEnabled()) {
      const rows = status.map((s) => [
        s.name + (s.value && !s.name.includes(s.value) ? ` (${s.value})` : ''),
        usd(s.spentUsd),
        usd(s.reservedUsd),
        usd(s.remainingUsd),
        usd(s.limitUsd),
        `${bar(s.spentUsd + s.reservedUsd, s.limitUsd, 20).padEnd(20)} ${Math.round(((s.spentUsd + s.reservedUsd) / s.limitUsd) * 100)}%`,
        s.periodEnd ?? 'never',
      ]);
      const header = ['budget', 'spent', 'reserved', 'remaining', 'limit', 'used', 'period ends'];
      process.stdout.write(renderTable(header, rows, { align: ['left', 'right', 'right', 'right', 'right'], heading: 'plain' }));
      if (status.length === 0) this.note('No spend in the current periods yet.');
    }
    return status;
  }
}
