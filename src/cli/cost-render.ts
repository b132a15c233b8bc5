import type { CostReport, ReportRow } from '../core/cost/report.js';
import { tableLines } from './table.js';
import { formatUsd as usd } from '../core/cost/format-usd.js';

const count = (n: number) => n.toLocaleString('en-US');

/** A bar of up to `width` blocks, in eighths, proportional to value / max. */
export function bar(value: number, max: number, width = 24): string {
  if (max <= 0 || value <= 0) return '';
  const eighths = Math.max(1, Math.round((value / max) * width * 8));
  return '█'.repeat(Math.floor(eighths / 8)) + (eighths % 8 ? '▏▎▍▌▋▊▉'[(eighths % 8) - 1] : '');
}

function marks(row: ReportRow): string {
  const notes = [row.estimatedCalls > 0 ? `${row.estimatedCalls} estimated` : '', row.unpricedCalls > 0 ? `${row.unpricedCalls} unpriced` : ''].filter(Boolean);
  return notes.join(', ');
}

/** The report for a terminal: totals per group with a bar, the total, and the top spenders. */
export function renderReport(report: CostReport): string {
  const max = Math.max(0, ...report.rows.map((r) => r.costUsd));
  const rows = report.rows.map((r) => [r.key, count(r.calls), count(r.inputTokens + r.cacheReadTokens + r.cacheWriteTokens), count(r.outputTokens), usd(r.costUsd), bar(r.costUsd, max), marks(r)]);
  const t = report.total;
  rows.push(['total', count(t.calls), count(t.inputTokens + t.cacheReadTokens + t.cacheWriteTokens), count(t.outputTokens), usd(t.costUsd), '', marks(t)]);
  const range = report.since || report.until ? ` from ${report.since ?? 'the start'} to ${report.until ?? 'now'}` : '';
  const out = [`Cost by ${report.by}${range}`, '', ...tableLines([report.by, 'calls', 'prompt tokens', 'output tokens', 'cost', '', ''], rows, { align: ['left', 'right', 'right', 'right', 'right'], heading: 'plain' })];
  if (report.by !== 'agent' && report.top.agents.length > 0) out.push('', `Top agents: ${report.top.agents.map((r) => `${r.key} ${usd(r.costUsd)}`).join(', ')}`);
  if (report.by !== 'model' && report.top.models.length > 0) out.push(`Top models: ${report.top.models.map((r) => `${r.key} ${usd(r.costUsd)}`).join(', ')}`);
  return out.join('\n');
}

const csvCell = (v: string | number) => (typeof v === 'number' ? String(v) : /[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);

/** One CSV row per group, then the total; cost in USD with full precision. */
export function reportCsv(report: CostReport): string {
  const header = [report.by, 'calls', 'input_tokens', 'output_tokens', 'cache_read_tokens', 'cache_write_tokens', 'cost_usd', 'estimated_calls', 'unpriced_calls'];
  const line = (r: ReportRow) => [r.key, r.calls, r.inputTokens, r.outputTokens, r.cacheReadTokens, r.cacheWriteTokens, Number(r.costUsd.toFixed(9)), r.estimatedCalls, r.unpricedCalls].map(csvCell).join(',');
  return [header.join(','), ...report.rows.map(line), line(report.total)].join('\n') + '\n';
}
