import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { anchorsOf, linksOf } from '../scripts/docs/markdown.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
// The pages of docs/ and of its folders (docs/frameworks/, docs/coding-agents/, …).
const PAGES = [
  'README.md',
  ...readdirSync(join(ROOT, 'docs'), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f.split('\\').join('/')}`)
    .sort(),
];

const anchorCache = new Map<string, Set<string>>();
function anchorsOfFile(file: string): Set<string> {
  let anchors = anchorCache.get(file);
  if (!anchors) anchorCache.set(file, (anchors = anchorsOf(readFileSync(file, 'utf8'))));
  return anchors;
}

/** Why a link of `page` does not resolve, or null when it does. External links are not fetched. */
function brokenReason(page: string, href: string): string | null {
  if (/^[a-z][a-z0-9+.-]*:/i.test(href)) return null;
  const [pathPart, anchor] = href.split('#', 2) as [string, string | undefined];
  const target = pathPart === '' ? join(ROOT, page) : resolve(dirname(join(ROOT, page)), decodeURIComponent(pathPart));
  if (!target.startsWith(ROOT)) return 'points outside the repository';
  if (!existsSync(target)) return `${relative(ROOT, target)} does not exist`;
  if (anchor === undefined) return null;
  if (statSync(target).isDirectory() || !target.endsWith('.md')) return `an anchor on ${relative(ROOT, target)}, which is not a Markdown page`;
  return anchorsOfFile(target).has(decodeURIComponent(anchor)) ? null : `${relative(ROOT, target)} has no heading with anchor #${anchor}`;
}

describe('docs links', () => {
  it('finds the pages, their links and their anchors', () => {
    expect(PAGES).toContain('docs/policy-language.md');
    const sample = '# Title\n\n## Errors and exit codes\n\n## Title\n\n[a](other.md#x) `[not](a-link.md)`\n\n```md\n[nor](this.md)\n```\n';
    expect([...anchorsOf(sample)]).toEqual(['title', 'errors-and-exit-codes', 'title-1']);
    expect(linksOf(sample).map((l) => l.href)).toEqual(['other.md#x']);
  });

  it('reports a link to a missing page or heading', () => {
    expect(brokenReason('README.md', 'docs/no-such-page.md')).toMatch(/does not exist/);
    expect(brokenReason('README.md', '#no-such-heading')).toMatch(/no heading with anchor #no-such-heading/);
    expect(brokenReason('docs/policy-language.md', 'policy-language.md#policy-rule')).toBeNull();
  });

  it.each(PAGES)('every relative link and #anchor in %s resolves', (page) => {
    const broken = linksOf(readFileSync(join(ROOT, page), 'utf8'))
      .map((link) => ({ ...link, reason: brokenReason(page, link.href) }))
      .filter((link) => link.reason !== null)
      .map((link) => `${page}:${link.line}: ${link.href}: ${link.reason}`);
    expect(broken).toEqual([]);
  });
});

describe('error codes named in the docs', () => {
  it('are registered (docs/errors.md lists them), unless they are an environment variable or a guardrail finding type', async () => {
    const { ERRORS } = await import('../src/core/errors/registry.js');
    const { describeBuiltinGuardrails } = await import('../src/core/guardrails/describe.js');
    const findingTypes = new Set(describeBuiltinGuardrails().flatMap((g) => g.types));
    const notCodes = (name: string): boolean => /^AGENTGUARD_|^OTEL_|^NO_COLOR$|^YOUR_API_KEY$/.test(name) || findingTypes.has(name);
    const unknown = PAGES.filter((p) => p !== 'docs/errors.md').flatMap((page) =>
      [...readFileSync(join(ROOT, page), 'utf8').matchAll(/`([A-Z][A-Z0-9]*_[A-Z0-9_]+)`/g)]
        .map((m) => m[1])
        .filter((name) => !(name in ERRORS) && !notCodes(name))
        .map((name) => `${page}: ${name}`),
    );
    expect(unknown).toEqual([]);
  });
});
