import type { Effect } from '../core/action.js';
import { actionLabel, viewRecord } from '../core/audit/export/view.js';
import type { AuditRecord } from '../core/audit/types.js';
import { paint } from './style.js';

const EFFECT_PAINT: Record<Effect, (s: string) => string> = { allow: paint.green, deny: paint.red, transform: paint.cyan, require_approval: paint.yellow };

/** The cells of one record in the human table, and the colour of its effect cell. */
function cells(r: AuditRecord): { text: string[]; paintEffect: (s: string) => string } {
  const view = viewRecord(r);
  const isDecision = r.type === 'decision' && r.effect !== null;
  const effect = isDecision ? r.effect! : `→ ${view.status ?? 'outcome'}`;
  const paintEffect = isDecision ? (EFFECT_PAINT[r.effect!] ?? String) : view.status === 'error' ? paint.red : paint.dim;
  return { text: [String(r.seq), r.time, r.agentId ?? '-', effect, isDecision ? actionLabel(view) : (view.name ?? '?'), r.rules.join(', ')], paintEffect };
}

/** Column widths that fit these records (for a table printed at once), never narrower than the headings. */
export function columnWidths(records: AuditRecord[]): number[] {
  const widths = [3, 4, 5, 6, 6];
  for (const r of records) cells(r).text.slice(0, 5).forEach((c, i) => (widths[i] = Math.max(widths[i], c.length)));
  return widths;
}

/** One table line: cells padded to `widths` (the last column unpadded), effects coloured. */
export function renderRow(r: AuditRecord, widths: number[]): string {
  const { text, paintEffect } = cells(r);
  const padded = text.map((cell, i) => (i < widths.length ? cell.padEnd(widths[i]) : cell));
  padded[0] = text[0].padStart(widths[0]);
  padded[3] = paintEffect(padded[3]);
  return padded.join('  ').trimEnd();
}

/** The heading line of the table. */
export function renderHeading(widths: number[]): string {
  return paint.bold(['SEQ'.padStart(widths[0]), 'TIME'.padEnd(widths[1]), 'AGENT'.padEnd(widths[2]), 'EFFECT'.padEnd(widths[3]), 'ACTION'.padEnd(widths[4]), 'RULES'].join('  '));
}
