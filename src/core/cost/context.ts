import type { AuditSink } from '../audit/sink.js';
import { checkCostConfig, type CostSettings } from './config.js';
import type { BudgetAlert, CostContext } from './enforce.js';
import { loadPriceCatalog, type PriceCatalog } from './prices.js';
import type { CostStore } from './types.js';
import { formatUsd } from './format-usd.js';

/**
 * The cost context of a process that records (the SDK's local mode, the sidecar): the checked `cost` config, the
 * shipped prices with any imported map over them, the store's ledger, and alerts recorded in the audit trail.
 */
export function costContext(options: {
  config: unknown;
  where: string;
  store: CostStore;
  dataDir: string;
  audit: AuditSink;
  onAlert?: (alert: BudgetAlert) => void;
}): CostContext {
  const settings: CostSettings = checkCostConfig(options.config, options.where);
  let catalog: PriceCatalog | undefined;
  return {
    store: options.store,
    settings,
    // Read on first use: most decisions are not LLM calls.
    get catalog() {
      catalog ??= loadPriceCatalog(options.dataDir);
      return catalog;
    },
    ...(options.onAlert ? { onAlert: options.onAlert } : {}),
    recordAlert: async (alert) => {
      const message = `Budget "${alert.budget}" reached ${Math.round(alert.threshold * 100)}%: ${formatUsd(alert.spentUsd)} of ${formatUsd(alert.limitUsd)}`;
      await options.audit.append([
        {
          type: 'alert',
          time: new Date().toISOString(),
          agentId: null,
          decisionId: null,
          effect: null,
          rules: [],
          data: { budget: alert.budget, key: alert.key, threshold: alert.threshold, spentUsd: alert.spentUsd, limitUsd: alert.limitUsd, periodStart: alert.periodStart, periodEnd: alert.periodEnd, message },
        },
      ]);
    },
  };
}
