import { windowsFor } from './budgets.js';
import type { BudgetConfig, BudgetWindow, CostScope, CostStore } from './types.js';

/** One budget window as `cost budgets` shows it. */
export interface BudgetStatus {
  name: string;
  scope: BudgetConfig['scope'];
  /** The project, agent, user or session limited (null for global). */
  value: string | null;
  period: BudgetConfig['period'];
  limitUsd: number;
  spentUsd: number;
  reservedUsd: number;
  remainingUsd: number;
  periodStart: string;
  periodEnd: string | null;
}

const SCOPE_FIELD = { project: 'project', agent: 'agent', user: 'user', session: 'session' } as const;

/**
 * Every configured budget's windows now: a budget with an `id` or of global scope has one; one without an `id`
 * has one per value that spent or holds a reservation in its current period (a value with nothing spent has its
 * whole limit left).
 */
export async function budgetStatus(budgets: BudgetConfig[], store: CostStore, now: Date): Promise<BudgetStatus[]> {
  const out: BudgetStatus[] = [];
  for (const budget of budgets) {
    let windows: BudgetWindow[];
    if (budget.scope === 'global' || budget.id !== undefined) {
      const scope: CostScope = { agent: null, project: null, user: null, session: null };
      if (budget.scope !== 'global') scope[SCOPE_FIELD[budget.scope]] = budget.id!;
      windows = windowsFor([budget], scope, now);
    } else {
      const field = SCOPE_FIELD[budget.scope];
      const [probe] = windowsFor([budget], { agent: 'x', project: 'x', user: 'x', session: 'x' }, now);
      const since = probe?.periodStart;
      const rows = await store.ledger(since ? { since } : {});
      const values = [...new Set(rows.map((r) => r.scope[field]).filter((v): v is string => v !== null))].sort();
      windows = values.flatMap((value) => {
        const scope: CostScope = { agent: null, project: null, user: null, session: null };
        scope[field] = value;
        return windowsFor([budget], scope, now);
      });
    }
    const figures = await store.figures(windows, now.toISOString());
    windows.forEach((w, i) => {
      const f = figures[i]!;
      out.push({
        name: w.name,
        scope: budget.scope,
        value: w.value,
        period: budget.period,
        limitUsd: f.limitNano / 1e9,
        spentUsd: f.spentNano / 1e9,
        reservedUsd: f.reservedNano / 1e9,
        remainingUsd: Math.max(0, f.limitNano - f.spentNano - f.reservedNano) / 1e9,
        periodStart: w.periodStart,
        periodEnd: w.periodEnd,
      });
    });
  }
  return out;
}
