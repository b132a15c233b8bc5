import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { columnWidths, renderFields, renderTable, tableLine, tableLines, type Align } from '../src/cli/table.js';

const word = fc.stringMatching(/^[a-z0-9$.,%-]{1,12}$/);
/** A heading and rows of the same number of cells. */
const table = fc.integer({ min: 1, max: 6 }).chain((n) =>
  fc.tuple(fc.array(word, { minLength: n, maxLength: n }), fc.array(fc.array(word, { minLength: n, maxLength: n }), { maxLength: 8 }), fc.array(fc.constantFrom<Align>('left', 'right'), { minLength: n, maxLength: n })),
);

describe('table', () => {
  it('starts every column at the same place on every line, two spaces after the widest cell before it', () => {
    fc.assert(
      fc.property(table, ([heading, rows, align]) => {
        const lines = tableLines(heading, rows, { align, heading: 'plain' });
        const widths = columnWidths([heading, ...rows]);
        const ends = widths.map((_, i) => widths.slice(0, i + 1).reduce((a, b) => a + b, 0) + 2 * i);
        [heading, ...rows].forEach((cells, r) => {
          const line = lines[r];
          expect(line).toBe(line.trimEnd());
          expect(line.split(/ +/).filter(Boolean)).toEqual(cells);
          cells.forEach((cell, i) => {
            const start = align[i] === 'right' ? ends[i] - cell.length : ends[i] - widths[i];
            expect(line.slice(start, start + cell.length)).toBe(cell);
          });
        });
      }),
    );
  });

  it('prints what the hand-written renderers printed (last column unpadded; numbers right-aligned, blanks cut)', () => {
    fc.assert(
      fc.property(table, ([heading, rows, align]) => {
        const widths = heading.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
        const lastUnpadded = (cells: string[]) => cells.map((c, i) => (i < cells.length - 1 ? c.padEnd(widths[i]) : c)).join('  ');
        const aligned = (cells: string[]) => cells.map((c, i) => (align[i] === 'right' ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ').trimEnd();
        for (const cells of [heading, ...rows]) {
          expect(tableLine(cells, widths)).toBe(lastUnpadded(cells));
          expect(tableLine(cells, widths, { align })).toBe(aligned(cells));
        }
      }),
    );
  });

  it('colours cells after padding and rows after trimming, so colour codes never count toward a width', () => {
    const text = renderTable(['ID', 'STATUS', 'NOTE'], [['a1', 'ok', 'x'], ['b22', 'failed', '']], {
      cellPaint: (row) => [undefined, row === 1 ? (s) => `<${s}>` : undefined],
      rowPaint: (row) => (row === 0 ? (s) => `[${s}]` : undefined),
    });
    expect(text).toBe('ID   STATUS  NOTE\n[a1   ok      x]\nb22  <failed>\n');
  });

  it('pads columns past the given widths not at all, and lets a wider cell push the rest right', () => {
    expect(tableLine(['123456', 'b', 'c'], [3, 2], { align: ['right'] })).toBe('123456  b   c');
    expect(tableLine(['', '', ''], [3, 3, 3])).toBe('');
  });

  it('lines up the values of key: value fields after the longest key', () => {
    expect(renderFields([['id', '1'], ['status', 'open'], ['by', '-']])).toBe('id:     1\nstatus: open\nby:     -');
  });
});
