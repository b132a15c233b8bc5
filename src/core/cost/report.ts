import { DateTime } from 'luxon';
import type { LedgerEntry } from './types.js';

export const REPORT_GROUPS = ['model', 'agent', 'project', 'user', 'day', 'week', 'month'] as const;
export type ReportGroup = (typeof REPORT_GROUPS)[number];

/** Calls, tokens and cost of one group of ledger rows. */
export interface ReportRow {
  key: string;
  calls: number;
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  costUsd: number;
  /** Calls whose usage was estimated (streams cut before the provider reported it). */
  estimatedCalls: number;
  /** Calls of models without a price, counted as $0. */
  unpricedCalls: number;
}

export interface CostReport {
  by: ReportGroup;
  since?: string;
  until?: string;
  rows: ReportRow[];
  total: ReportRow;
  /** The largest spenders by agent and by model, whatever the grouping. */
  top: { agents: ReportRow[]; models: ReportRow[] };
}

const NONE = '(none)';

function groupKey(entry: LedgerEntry, by: ReportGroup, zone: string): string {
  switch (by) {
    case 'model':
      return `${entry.provider}/${entry.model}`;
    case 'agent':
      return entry.scope.agent ?? NONE;
    case 'project':
      return entry.scope.project ?? NONE;
    case 'user':
      return entry.scope.user ?? NONE;
    case 'day':
      return DateTime.fromISO(entry.time, { zone }).toISODate() ?? entry.time.slice(0, 10);
    case 'week':
      return DateTime.fromISO(entry.time, { zone }).startOf('week').toISODate() ?? entry.time.slice(0, 10);
    case 'month':
      return DateTime.fromISO(entry.time, { zone }).toFormat('yyyy-MM');
  }
}

function emptyRow(key: string): ReportRow & { nano: number } {
  return { key, calls: 0, inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0, costUsd: 0, estimatedCalls: 0, unpricedCalls: 0, nano: 0 };
}

function add(row: ReturnType<typeof emptyRow>, entry: LedgerEntry): void {
  row.calls++;
  row.inputTokens += entry.tokens.inputTokens;
  row.outputTokens += entry.tokens.outputTokens;
  row.cacheReadTokens += entry.tokens.cacheReadInputTokens;
  row.cacheWriteTokens += entry.tokens.cacheCreationInputTokens;
  row.nano += entry.costNano;
  if (entry.estimated) row.estimatedCalls++;
  if (entry.priced === 'unpriced') row.unpricedCalls++;
}

function finish(row: ReturnType<typeof emptyRow>): ReportRow {
  const { nano, ...rest } = row;
  return { ...rest, costUsd: nano / 1e9 };
}

function grouped(entries: LedgerEntry[], by: ReportGroup, zone: string): ReportRow[] {
  const rows = new Map<string, ReturnType<typeof emptyRow>>();
  for (const entry of entries) {
    const key = groupKey(entry, by, zone);
    let row = rows.get(key);
    if (!row) rows.set(key, (row = emptyRow(key)));
    add(row, entry);
  }
  const out = [...rows.values()].map(finish);
  // Time groups read best in time order; the others by spend, largest first.
  return by === 'day' || by === 'week' || by === 'month' ? out.sort((a, b) => a.key.localeCompare(b.key)) : out.sort((a, b) => b.costUsd - a.costUsd || a.key.localeCompare(b.key));
}

/** Totals of ledger rows by model, agent, project, user or period (days, weeks from Monday, months in `zone`). */
export function costReport(entries: LedgerEntry[], by: ReportGroup, options: { since?: string; until?: string; zone?: string; top?: number } = {}): CostReport {
  const zone = options.zone ?? 'UTC';
  const total = emptyRow('total');
  for (const entry of entries) add(total, entry);
  const top = options.top ?? 5;
  return {
    by,
    ...(options.since ? { since: options.since } : {}),
    ...(options.until ? { until: options.until } : {}),
    rows: grouped(entries, by, zone),
    total: finish(total),
    top: { agents: grouped(entries, 'agent', zone).slice(0, top), models: grouped(entries, 'model', zone).slice(0, top) },
  };
}
