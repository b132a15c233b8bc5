import { isDynamic, hasGlob, wordText, type ShellWord } from './shell-words.js';

/** A word a command gets as a file or folder operand, as rules see it. */
export interface ShellPath {
  /** The path after quote removal and brace expansion, with `//`, `.` and `..` folded (`/tmp/../` is `/`), `$HOME` as `~`. */
  text: string;
  /**
   * The part of `text` that is fixed: the folders before the first one with a glob character or a run-time value.
   * `/?*` and `/*` give `/`, `/etc/*.conf` gives `/etc`, `$DIR/x` gives `` (nothing fixed).
   */
  fixed: string;
  /** Has an unquoted `*`, `?` or `[`: the shell replaces it by matching file names. */
  glob: boolean;
  /** Holds a variable, command substitution or input read at run time: its value is unknown. */
  dynamic: boolean;
}

/** Folds `//`, `.` and `..` the way the kernel would for an absolute or home path; relative `..` at the start stays. */
export function normalizePath(text: string): string {
  if (text === '') return '';
  const absolute = text.startsWith('/');
  const parts = text.split('/');
  const head = absolute ? '' : parts.shift()!;
  const homeLike = !absolute && head.startsWith('~');
  const out: string[] = [];
  for (const part of parts) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (out.length > 0 && out[out.length - 1] !== '..') out.pop();
      else if (!absolute && !homeLike) out.push('..');
      continue;
    }
    out.push(part);
  }
  if (absolute) return `/${out.join('/')}`;
  if (head === '.' || head === '') return out.length === 0 ? '.' : out.join('/');
  if (head === '..' && !homeLike) return ['..', ...out].join('/');
  return [head, ...out].join('/');
}

/** A word as a path operand (undefined for an empty word or a process substitution). */
export function toPath(word: ShellWord): ShellPath | undefined {
  if (word.procSubst || word.chars.length === 0) return undefined;
  const text = wordText(word);
  // The fixed part ends at the first `/`-separated component holding a glob character or a run-time value.
  let cut = word.chars.length;
  for (let i = 0; i < word.chars.length; i++) {
    const special = word.dyn[i] || (word.active[i] && (word.chars[i] === '*' || word.chars[i] === '?' || word.chars[i] === '['));
    if (!special) continue;
    const slash = word.chars.lastIndexOf('/', i);
    cut = slash === -1 ? 0 : slash + 1;
    break;
  }
  const fixedText = word.chars.slice(0, cut).join('');
  return {
    text: normalizePath(text),
    fixed: cut === 0 ? '' : normalizePath(fixedText),
    glob: hasGlob(word),
    dynamic: isDynamic(word),
  };
}
