/**
 * Lenient JSON for VS Code and Zed settings (JSONC): comments and trailing commas are allowed. Comments and trailing
 * commas are replaced by spaces (newlines kept), so the parser's offsets still point at the original line and column.
 */

export type JsoncResult = { ok: true; value: unknown } | { ok: false; message: string };

export function stripJsonc(text: string): string {
  const out = text.split('');
  const blank = (from: number, to: number) => {
    for (let k = from; k < to; k++) if (out[k] !== '\n' && out[k] !== '\r') out[k] = ' ';
  };
  let i = 0;
  // Index of a comma that may turn out to be trailing, i.e. followed only by blanks/comments and then `}` or `]`.
  let pendingComma = -1;
  while (i < text.length) {
    const c = text[i];
    if (c === '"') {
      pendingComma = -1;
      i++;
      while (i < text.length && text[i] !== '"' && text[i] !== '\n') i += text[i] === '\\' ? 2 : 1;
      i++;
    } else if (c === '/' && text[i + 1] === '/') {
      const end = text.indexOf('\n', i);
      const stop = end === -1 ? text.length : end;
      blank(i, stop);
      i = stop;
    } else if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      // An unterminated block comment is left in place for the parser to report.
      if (end === -1) break;
      blank(i, end + 2);
      i = end + 2;
    } else if (c === ',') {
      pendingComma = i;
      i++;
    } else if (c === '}' || c === ']') {
      if (pendingComma !== -1) out[pendingComma] = ' ';
      pendingComma = -1;
      i++;
    } else {
      if (!/\s/.test(c)) pendingComma = -1;
      i++;
    }
  }
  return out.join('');
}

/** 1-based line and column of a character offset. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, Math.max(0, Math.min(offset, text.length)));
  const lines = before.split('\n');
  return { line: lines.length, column: lines[lines.length - 1].length + 1 };
}

/** Parses JSON (strict) or JSONC (lenient); an error message ends with `at line:column`. */
export function parseJsonText(text: string, lenient: boolean): JsoncResult {
  const source = lenient ? stripJsonc(text) : text;
  try {
    return { ok: true, value: JSON.parse(source) };
  } catch (error) {
    const raw = error instanceof Error ? error.message : String(error);
    const position = /at position (\d+)/.exec(raw);
    // V8 names no position when the text ends early; that error is at the end of the text.
    const offset = position ? Number(position[1]) : text.length;
    const { line, column } = lineColumn(text, offset);
    const message = raw.replace(/\s*in JSON at position \d+.*$/s, '').replace(/\s*\(line \d+ column \d+\)$/, '');
    return { ok: false, message: `${message} at ${line}:${column}` };
  }
}
