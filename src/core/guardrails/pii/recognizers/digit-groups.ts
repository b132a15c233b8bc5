/** A run of digit groups joined by single separators, e.g. "4012 8888-8888 1881". */
export interface DigitGroup {
  start: number;
  end: number;
  digits: string;
}

const RUN = /(?<![\p{L}\p{N}])\d+(?:[ .-]\d+)*(?![\p{L}\p{N}])/gu;
const GROUP = /\d+/g;

/** Each maximal run of digit groups, split into its groups. */
export function digitRuns(text: string): DigitGroup[][] {
  const runs: DigitGroup[][] = [];
  RUN.lastIndex = 0;
  for (let m = RUN.exec(text); m !== null; m = RUN.exec(text)) {
    const groups: DigitGroup[] = [];
    GROUP.lastIndex = 0;
    for (let g = GROUP.exec(m[0]); g !== null; g = GROUP.exec(m[0])) {
      groups.push({ start: m.index + g.index, end: m.index + g.index + g[0].length, digits: g[0] });
    }
    runs.push(groups);
  }
  return runs;
}

/**
 * Splits runs into the longest left-to-right group-aligned pieces `accept` scores, so
 * "4012888888881881 4012-8888-8888-1881" yields two cards rather than one long number.
 */
export function alignedMatches(
  text: string,
  runs: DigitGroup[][],
  minDigits: number,
  maxDigits: number,
  accept: (digits: string, value: string) => number | null,
): { start: number; end: number; score: number }[] {
  const out: { start: number; end: number; score: number }[] = [];
  for (const groups of runs) {
    let i = 0;
    while (i < groups.length) {
      let found = false;
      let digits = '';
      const candidates: { j: number; digits: string }[] = [];
      for (let j = i; j < groups.length; j++) {
        digits += groups[j].digits;
        if (digits.length > maxDigits) break;
        if (digits.length >= minDigits) candidates.push({ j, digits });
      }
      for (let k = candidates.length - 1; k >= 0; k--) {
        const { j, digits: d } = candidates[k];
        const start = groups[i].start;
        const end = groups[j].end;
        const score = accept(d, text.slice(start, end));
        if (score !== null) {
          out.push({ start, end, score });
          i = j + 1;
          found = true;
          break;
        }
      }
      if (!found) i++;
    }
  }
  return out;
}
