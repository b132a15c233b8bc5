/**
 * The CLI's text tables: columns two spaces apart, each as wide as its widest cell, text left-aligned and numbers
 * right-aligned. Colours are applied after padding, so their escape codes never count toward a width.
 */
import { paint } from './style.js';

export type Align = 'left' | 'right';
type Paint = (text: string) => string;

/** The widest cell of each column over these rows (headings included when passed as a row). */
export function columnWidths(rows: ReadonlyArray<readonly string[]>): number[] {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return widths;
}

export interface LineOptions {
  /** Per column; missing means left. */
  align?: readonly Align[];
  /** Per column: colours the padded cell. */
  paint?: ReadonlyArray<Paint | undefined>;
}

/**
 * One line: each cell padded to its column's width (a cell wider than its column pushes the rest right), trailing
 * blanks cut. Columns past `widths`, and a left-aligned last column, are not padded.
 */
export function tableLine(cells: readonly string[], widths: readonly number[], options: LineOptions = {}): string {
  const last = cells.length - 1;
  return cells
    .map((cell, i) => {
      const width = widths[i];
      const right = options.align?.[i] === 'right';
      const padded = width === undefined ? cell : right ? cell.padStart(width) : i === last ? cell : cell.padEnd(width);
      const colour = options.paint?.[i];
      return colour ? colour(padded) : padded;
    })
    .join('  ')
    .trimEnd();
}

export interface TableOptions {
  /** Per column; missing means left. */
  align?: readonly Align[];
  /** Bold headings (the default) or plain. */
  heading?: 'bold' | 'plain';
  /** Colours for the cells of body row `row` (per column). */
  cellPaint?: (row: number) => ReadonlyArray<Paint | undefined>;
  /** Colours a whole body row. */
  rowPaint?: (row: number) => Paint | undefined;
}

/** The heading line and one line per row, without newlines. */
export function tableLines(heading: readonly string[], rows: ReadonlyArray<readonly string[]>, options: TableOptions = {}): string[] {
  const widths = columnWidths([heading, ...rows]);
  const { align } = options;
  const head = tableLine(heading, widths, { align });
  const body = rows.map((row, i) => {
    const line = tableLine(row, widths, { align, paint: options.cellPaint?.(i) });
    const colour = options.rowPaint?.(i);
    return colour ? colour(line) : line;
  });
  return [options.heading === 'plain' ? head : paint.bold(head), ...body];
}

/** The table as text, each line ending in a newline. */
export function renderTable(heading: readonly string[], rows: ReadonlyArray<readonly string[]>, options: TableOptions = {}): string {
  return `${tableLines(heading, rows, options).join('\n')}\n`;
}

/** `key: value` lines with the values lined up after the longest key; keys bold. */
export function renderFields(fields: ReadonlyArray<readonly [string, string]>): string {
  const width = Math.max(...fields.map(([key]) => key.length)) + 1;
  return fields.map(([key, value]) => `${paint.bold(`${key}:`.padEnd(width))} ${value}`).join('\n');
}
