import type { Effect } from '../core/action.js';
import { actionLabel, viewRecord } from '../core/audit/export/view.js';
import type { AuditRecord } from '../core/audit/types.js';
import { paint } from './style.js';
import { columnWidths as widthsOf, tableLine } from './table.js';

const EFFECT_PAINT: Record<Effect, (s: string) => string> = { allow: paint.green, deny: paint.red, transform: paint.cyan, require_approval: paint.yellow };

/** The cells of one record in the human table, and the colour of its effect cell. */
function cells(r: AuditRecord): { text: string[]; paintEffect: (s: string) => string } {
  const view = viewRecord(r);
  const isDecision = r.type === 'decision' && r.effect !== null;
  const effect = isDecision ? r.effect! : `→ ${view.status ?? 'outcome'}`;
  const paintEffect = isDecision ? (EFFECT_PAINT[r.effect!] ?? String) : view.status === 'error' ? paint.red : paint.dim;
  return { text: [String(r.seq), r.time, r.agentId ?? '-', effect, isDecision ? actionLabel(view) : (view.name ?? '?'), r.rules.join(', ')], paintEffect };
}

const HEADING = ['SEQ', 'TIME', 'AGENT', 'EFFECT', 'ACTION', 'RULES'];
/** SEQ is a number; RULES, the last column, is never padded. */
const ALIGN = ['right'] as const;

/** Column widths that fit these records (for a table printed at once), never narrower than the headings. */
export function columnWidths(records: AuditRecord[]): number[] {
  return widthsOf([HEADING.slice(0, 5), ...records.map((r) => cells(r).text.slice(0, 5))]);
}

/** One table line: cells padded to `widths` (the last column unpadded), effects coloured. */
export function renderRow(r: AuditRecord, widths: number[]): string {
  const { text, paintEffect } = cells(r);
  return tableLine(text, widths, { align: ALIGN, paint: [undefined, undefined, undefined, paintEffect] });
}

/** The heading line of the table. */
export function renderHeading(widths: number[]): string {
  return paint.bold(tableLine(HEADING, widths, { align: ALIGN }));
}
