/**
 * Reading and writing the docs' Markdown: headings and their GitHub anchors, links, and the generated sections kept
 * between marker comments. Shared by the docs build scripts and the docs tests, so both read a page the same way.
 */
import GithubSlugger from 'github-slugger';
import MarkdownIt from 'markdown-it';

const md = new MarkdownIt({ html: true });

export interface MarkdownLink {
  href: string;
  line: number;
}

/** Anchors GitHub gives the page's headings (lowercase, punctuation dropped, spaces to '-', repeats suffixed -1, -2, …) and `<a id|name>` tags. */
export function anchorsOf(text: string): Set<string> {
  const slugger = new GithubSlugger();
  const anchors = new Set<string>();
  const tokens = md.parse(text, {});
  tokens.forEach((token, i) => {
    if (token.type === 'heading_open') anchors.add(slugger.slug(plainText(tokens[i + 1]?.children ?? [])));
    const html = token.type === 'html_block' || token.type === 'inline' ? htmlOf(token) : '';
    for (const m of html.matchAll(/<a\s+(?:id|name)="([^"]+)"/g)) anchors.add(m[1]);
  });
  return anchors;
}

/** Every link and image target in the page, with its line (code blocks and code spans are not links). */
export function linksOf(text: string): MarkdownLink[] {
  const links: MarkdownLink[] = [];
  let line = 1;
  for (const token of md.parse(text, {})) {
    // Inline tokens in table cells have no line of their own: the row's line is the last one seen.
    if (token.map) line = token.map[0] + 1;
    if (token.type !== 'inline' || !token.children) continue;
    for (const child of token.children) {
      const href = child.type === 'link_open' ? child.attrGet('href') : child.type === 'image' ? child.attrGet('src') : null;
      if (href !== null) links.push({ href, line });
    }
  }
  return links;
}

function htmlOf(token: { type: string; content: string; children: Array<{ type: string; content: string }> | null }): string {
  if (token.type === 'html_block') return token.content;
  return (token.children ?? []).filter((c) => c.type === 'html_inline').map((c) => c.content).join('');
}

function plainText(children: Array<{ type: string; content: string }>): string {
  return children.filter((c) => c.type === 'text' || c.type === 'code_inline').map((c) => c.content).join('');
}

/** The markers around a generated section: `<!-- BEGIN GENERATED name … -->` and `<!-- END GENERATED name -->`. */
function markers(name: string): { begin: RegExp; end: string } {
  return { begin: new RegExp(`<!-- BEGIN GENERATED ${name}\\b[^>]*-->\\n`), end: `<!-- END GENERATED ${name} -->` };
}

/** The text between a page's markers for `name`; throws when the markers are missing. */
export function generatedSection(page: string, name: string, file = 'the page'): string {
  const { begin, end } = markers(name);
  const start = begin.exec(page);
  const stop = page.indexOf(end);
  if (!start || stop < start.index) throw new Error(`${file} has no "<!-- BEGIN GENERATED ${name} -->" … "${end}" markers`);
  return page.slice(start.index + start[0].length, stop);
}

/** The page with the text between the markers for `name` replaced by `content`. */
export function replaceGeneratedSection(page: string, name: string, content: string, file = 'the page'): string {
  const old = generatedSection(page, name, file);
  const { begin } = markers(name);
  const start = begin.exec(page)!;
  const from = start.index + start[0].length;
  return page.slice(0, from) + content + page.slice(from + old.length);
}
