/**
 * Shell words after quote removal, character by character: which characters are still special (unquoted, unescaped:
 * glob and brace characters) and which come from an expansion whose value is only known at run time.
 */
export interface ShellWord {
  chars: string[];
  /** Unquoted and unescaped: `*`, `?`, `[`, `{`, `,` and `}` keep their meaning. */
  active: boolean[];
  /** Produced by a parameter expansion, command substitution or arithmetic: unknown until run time. */
  dyn: boolean[];
  /** The word is a process substitution `<(…)` / `>(…)` (a file name the shell makes up). */
  procSubst: boolean;
}

export function emptyWord(): ShellWord {
  return { chars: [], active: [], dyn: [], procSubst: false };
}

export function push(word: ShellWord, text: string, active: boolean, dyn: boolean): void {
  for (const ch of text) {
    word.chars.push(ch);
    word.active.push(active);
    word.dyn.push(dyn);
  }
}

export function wordText(word: ShellWord): string {
  return word.chars.join('');
}

export function isDynamic(word: ShellWord): boolean {
  return word.dyn.includes(true);
}

export function hasGlob(word: ShellWord): boolean {
  return word.chars.some((ch, i) => word.active[i] && (ch === '*' || ch === '?' || ch === '['));
}

/** Unquoted text: `\x` is `x` (its character no longer special), and a backslash-newline disappears. */
export function pushUnquoted(word: ShellWord, raw: string): void {
  for (let i = 0; i < raw.length; i++) {
    const ch = raw[i];
    if (ch === '\\' && i + 1 < raw.length) {
      i++;
      if (raw[i] !== '\n') push(word, raw[i], false, false);
    } else push(word, ch, true, false);
  }
}

/** Text inside double quotes: a backslash escapes only $ ` " \ and newline. */
export function pushDoubleQuoted(word: ShellWord, raw: string): void {
  let out = '';
  for (let i = 0; i < raw.length; i++) {
    const ch = raw[i];
    if (ch === '\\' && i + 1 < raw.length && '$`"\\\n'.includes(raw[i + 1])) {
      i++;
      if (raw[i] !== '\n') out += raw[i];
    } else out += ch;
  }
  push(word, out, false, false);
}

const SIMPLE_ESCAPES: Record<string, string> = { a: '\x07', b: '\b', e: '\x1b', E: '\x1b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\', "'": "'", '"': '"', '?': '?' };

/** The text of a `$'…'` string: C-style escapes decoded (`$'\x72m'` is `rm`). */
export function decodeAnsiC(raw: string): string {
  let out = '';
  for (let i = 0; i < raw.length; i++) {
    const ch = raw[i];
    if (ch !== '\\' || i + 1 >= raw.length) {
      out += ch;
      continue;
    }
    const next = raw[++i];
    if (next in SIMPLE_ESCAPES) out += SIMPLE_ESCAPES[next];
    else if (/[0-7]/.test(next)) {
      let digits = next;
      while (digits.length < 3 && /[0-7]/.test(raw[i + 1] ?? '')) digits += raw[++i];
      out += String.fromCharCode(parseInt(digits, 8) & 0xff);
    } else if (next === 'x' || next === 'u' || next === 'U') {
      const max = next === 'x' ? 2 : next === 'u' ? 4 : 8;
      let digits = '';
      while (digits.length < max && /[0-9a-fA-F]/.test(raw[i + 1] ?? '')) digits += raw[++i];
      if (digits === '') out += `\\${next}`;
      else {
        const code = parseInt(digits, 16);
        out += code <= 0x10ffff ? String.fromCodePoint(code) : '\ufffd';
      }
    } else if (next === 'c' && i + 1 < raw.length) out += String.fromCharCode(raw[++i].toUpperCase().charCodeAt(0) ^ 0x40);
    else out += `\\${next}`;
  }
  return out;
}

/** Most words one brace expansion may produce; more makes the word unknowable (dynamic). */
export const MAX_BRACE_WORDS = 256;

function sliceWord(word: ShellWord, from: number, to: number): ShellWord {
  return { chars: word.chars.slice(from, to), active: word.active.slice(from, to), dyn: word.dyn.slice(from, to), procSubst: word.procSubst };
}

function concat(...parts: ShellWord[]): ShellWord {
  const out = emptyWord();
  for (const p of parts) {
    out.chars.push(...p.chars);
    out.active.push(...p.active);
    out.dyn.push(...p.dyn);
    out.procSubst ||= p.procSubst;
  }
  return out;
}

function literal(text: string): ShellWord {
  const w = emptyWord();
  push(w, text, false, false);
  return w;
}

/** `{1..3}` / `{a..c}` as words, or undefined when the body is not a sequence. */
function sequence(body: string): string[] | undefined {
  const num = /^(-?\d+)\.\.(-?\d+)(?:\.\.(-?\d+))?$/.exec(body);
  if (num) {
    const [a, b] = [Number(num[1]), Number(num[2])];
    const step = Math.abs(Number(num[3] ?? 1)) || 1;
    if (Math.abs(b - a) / step >= MAX_BRACE_WORDS) return Array.from({ length: MAX_BRACE_WORDS + 1 }, () => '');
    const out: string[] = [];
    for (let v = a; a <= b ? v <= b : v >= b; v += a <= b ? step : -step) out.push(String(v));
    return out;
  }
  const chr = /^([a-zA-Z])\.\.([a-zA-Z])$/.exec(body);
  if (chr) {
    const [a, b] = [chr[1].charCodeAt(0), chr[2].charCodeAt(0)];
    const out: string[] = [];
    for (let v = a; a <= b ? v <= b : v >= b; v += a <= b ? 1 : -1) out.push(String.fromCharCode(v));
    return out;
  }
  return undefined;
}

/**
 * Brace expansion as bash does it before anything else: `/{bin,etc}` is `/bin` and `/etc`, `x{1..3}` is three words.
 * Returns undefined when the expansion would give more than MAX_BRACE_WORDS words.
 */
export function expandBraces(word: ShellWord, budget = { left: MAX_BRACE_WORDS }): ShellWord[] | undefined {
  const { chars, active } = word;
  for (let open = 0; open < chars.length; open++) {
    if (!active[open] || chars[open] !== '{') continue;
    let depth = 0;
    const commas: number[] = [];
    let close = -1;
    for (let i = open; i < chars.length; i++) {
      if (!active[i]) continue;
      if (chars[i] === '{') depth++;
      else if (chars[i] === '}') {
        depth--;
        if (depth === 0) {
          close = i;
          break;
        }
      } else if (chars[i] === ',' && depth === 1) commas.push(i);
    }
    if (close === -1) return [word];
    const prefix = sliceWord(word, 0, open);
    const suffix = sliceWord(word, close + 1, chars.length);
    let alternatives: ShellWord[];
    if (commas.length > 0) {
      const bounds = [open, ...commas, close];
      alternatives = bounds.slice(0, -1).map((b, i) => sliceWord(word, b + 1, bounds[i + 1]));
    } else {
      const seq = sequence(chars.slice(open + 1, close).join(''));
      if (!seq) continue; // `{}` or `{x}`: not an expansion, look further on
      alternatives = seq.map(literal);
    }
    const out: ShellWord[] = [];
    for (const alt of alternatives) {
      const expanded = expandBraces(concat(prefix, alt, suffix), budget);
      if (!expanded) return undefined;
      out.push(...expanded);
      budget.left -= expanded.length;
      if (budget.left < 0) return undefined;
    }
    return out;
  }
  return [word];
}
