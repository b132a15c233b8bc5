/**
 * Text a reader does not see but a model does: what a page or document hides from people is where an indirect
 * injection likes to sit. Found in the raw text (before normalisation removes the markup's meaning):
 * - HTML comments;
 * - elements styled out of sight: `display:none`, `visibility:hidden`, zero font size or opacity, white text, far
 *   off-screen positions;
 * - `alt`, `title` and `aria-label` attributes, and markdown image alt text and link titles;
 * - Unicode tag characters (U+E0020–U+E007E), which spell ASCII invisibly ("ASCII smuggling");
 * - text laced with zero-width characters (three or more zero-width spaces, non-joiners, word joiners or BOMs): words
 *   broken up so a filter reading the raw text does not see them; the whole text is the fragment (normalisation
 *   removes the characters, so it reads as the words it hides). Joiners inside emoji sequences do not count.
 * Each fragment is returned as found (not normalised); the injection guardrail scores each one on its own and counts
 * hiding against it. Every pattern is linear: bounded repetitions, no nested quantifiers over the same characters.
 */

const MAX_FRAGMENT = 2000;
const MAX_FRAGMENTS = 64;

const COMMENT = /<!--([\s\S]{1,2000}?)-->/g;
// An opening tag whose style hides it, then its content up to the next closing tag of any kind.
const HIDDEN_ELEMENT =
  /<[a-z][a-z0-9]{0,10}\b[^<>]{0,300}?style\s*=\s*["'][^"'<>]{0,300}?(?:display\s*:\s*none|visibility\s*:\s*hidden|font-size\s*:\s*0(?:\.0+)?(?:px|pt|em|rem|%)?\s*(?:;|["'])|opacity\s*:\s*0(?:\.0+)?\s*(?:;|["'])|(?<![-\w])color\s*:\s*(?:#fff(?:fff)?\b|white\b|rgba?\(\s*255\s*,\s*255\s*,\s*255)|(?:left|top|text-indent)\s*:\s*-\d{3,})[^<>]{0,400}>([^<]{1,2000})/gi;
const HIDDEN_ATTRIBUTE = /\b(?:alt|title|aria-label)\s*=\s*(?:"([^"<>]{12,1000})"|'([^'<>]{12,1000})')/gi;
const MARKDOWN_IMAGE_ALT = /!\[([^\]\n]{12,1000})\]\(/g;
const MARKDOWN_LINK_TITLE = /\]\([^()\s]{1,500}\s+"([^"\n]{12,1000})"\)/g;
const TAG_CHARACTERS = /[\u{E0020}-\u{E007E}]{4,}/gu;
const ZERO_WIDTH = /[\u200B\u200C\u2060\uFEFF]/g;
const MIN_ZERO_WIDTH = 3;

/** Hidden fragments of `raw`, in the order the patterns find them, at most MAX_FRAGMENTS. */
export function hiddenFragments(raw: string): string[] {
  const out: string[] = [];
  const push = (fragment: string | undefined) => {
    if (fragment === undefined || out.length >= MAX_FRAGMENTS) return;
    const trimmed = fragment.trim().slice(0, MAX_FRAGMENT);
    if (trimmed.length > 0) out.push(trimmed);
  };
  if (raw.includes('<')) {
    for (const m of raw.matchAll(COMMENT)) push(m[1]);
    for (const m of raw.matchAll(HIDDEN_ELEMENT)) push(m[1]);
  }
  if (raw.includes('=')) for (const m of raw.matchAll(HIDDEN_ATTRIBUTE)) push(m[1] ?? m[2]);
  if (raw.includes('](')) {
    for (const m of raw.matchAll(MARKDOWN_IMAGE_ALT)) push(m[1]);
    for (const m of raw.matchAll(MARKDOWN_LINK_TITLE)) push(m[1]);
  }
  if ((raw.match(ZERO_WIDTH)?.length ?? 0) >= MIN_ZERO_WIDTH) push(raw);
  if (/[\u{E0020}-\u{E007E}]/u.test(raw)) {
    for (const m of raw.matchAll(TAG_CHARACTERS)) push([...m[0]].map((ch) => String.fromCharCode(ch.codePointAt(0)! - 0xe0000)).join(''));
  }
  return out;
}
