/** How far (UTF-16 units) before and after a match context words are looked for. */
const BEFORE = 60;
const AFTER = 30;
export const CONTEXT_BOOST = 0.35;

const WORD = /[\p{L}\p{N}]+/gu;

/**
 * Looks for context words near a span. Single words must match a whole word (or be its prefix
 * when at least 5 letters: "licence" matches "licences"); phrases match as substrings.
 */
export function hasContext(text: string, start: number, end: number, words: ReadonlySet<string>, phrases: readonly string[]): boolean {
  if (words.size === 0 && phrases.length === 0) return false;
  const window = (text.slice(Math.max(0, start - BEFORE), start) + ' ' + text.slice(end, end + AFTER)).toLowerCase();
  for (const phrase of phrases) if (window.includes(phrase)) return true;
  for (const m of window.matchAll(WORD)) {
    const w = m[0];
    if (words.has(w)) return true;
    if (w.length > 5) for (let n = 5; n < w.length; n++) if (words.has(w.slice(0, n)) && n >= 5) return true;
  }
  return false;
}

export interface ContextLists {
  words: Set<string>;
  phrases: string[];
}

export function contextLists(list: readonly string[]): ContextLists {
  const words = new Set<string>();
  const phrases: string[] = [];
  for (const raw of list) {
    const w = raw.toLowerCase().trim();
    if (w === '') continue;
    if (/[^\p{L}\p{N}]/u.test(w)) phrases.push(w);
    else words.add(w);
  }
  return { words, phrases };
}
