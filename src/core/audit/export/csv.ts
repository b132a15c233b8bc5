import type { AuditRecord } from '../types.js';
import type { AuditExporter, ExportWriter } from './exporter.js';

/** The CSV columns, in order. `rules` are joined with `;` (rule ids cannot contain it); `data` is the record's JSON. */
export const CSV_COLUMNS = ['seq', 'time', 'type', 'agent', 'decision_id', 'effect', 'rules', 'hash', 'data'] as const;

// A spreadsheet runs a cell starting with one of these as a formula (CSV injection); tab and CR are on OWASP's list too.
const FORMULA_START = /^[=+\-@\t\r]/;

/**
 * One CSV cell: a leading quote defuses a formula, then RFC 4180 quoting (double quotes around cells with a comma,
 * a quote or a line break, and quotes inside doubled).
 */
export function csvCell(value: string | number | null | undefined): string {
  let text = value === null || value === undefined ? '' : String(value);
  if (FORMULA_START.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

function csvRow(cells: Array<string | number | null>): string {
  return `${cells.map(csvCell).join(',')}\r\n`;
}

/** CSV (RFC 4180, CRLF line ends) with a header row; safe to open in a spreadsheet. */
export class CsvExporter implements AuditExporter {
  readonly format = 'csv' as const;

  begin(out: ExportWriter): void {
    out.write(csvRow([...CSV_COLUMNS]));
  }

  record(r: AuditRecord, out: ExportWriter): void {
    out.write(csvRow([r.seq, r.time, r.type, r.agentId, r.decisionId, r.effect, r.rules.join(';'), r.hash, JSON.stringify(r.data)]));
  }

  end(): void {}
}
