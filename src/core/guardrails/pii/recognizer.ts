/** A span one recognizer proposes before context scoring, allow-listing and overlap resolution. */
export interface Candidate {
  type: string;
  start: number;
  end: number;
  score: number;
}

/** One recognizer finds one kind of identifier; `contextWords` near a match raise its score. */
export interface Recognizer {
  readonly type: string;
  readonly contextWords: readonly string[];
  /** Longest span it reports, in UTF-16 code units. */
  readonly maxSpanLength: number;
  find(text: string): Candidate[];
}

/** Runs a global regex over `text` and keeps the matches `accept` scores (null drops the match). */
export function scanRegex(
  text: string,
  pattern: RegExp,
  type: string,
  accept: (match: RegExpExecArray) => number | null,
): Candidate[] {
  const out: Candidate[] = [];
  pattern.lastIndex = 0;
  for (let m = pattern.exec(text); m !== null; m = pattern.exec(text)) {
    if (m[0].length === 0) {
      pattern.lastIndex++;
      continue;
    }
    const score = accept(m);
    if (score !== null) out.push({ type, start: m.index, end: m.index + m[0].length, score });
  }
  return out;
}

export function digitsOf(value: string): string {
  return value.replace(/\D/g, '');
}

const ALNUM = /[\p{L}\p{N}]/u;

/** True when the characters just outside [start, end) are not letters or digits. */
export function isolated(text: string, start: number, end: number): boolean {
  return (start === 0 || !ALNUM.test(text[start - 1])) && (end >= text.length || !ALNUM.test(text[end]));
}
