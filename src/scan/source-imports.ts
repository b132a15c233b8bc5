/**
 * Imports in source text, read with regular expressions (never executed): npm package names from JS/TS
 * `import … from`, `export … from`, `import('…')`, `require('…')`, and module names from Python `import`/`from`.
 */

export const JS_EXTENSIONS = ['.js', '.mjs', '.cjs', '.jsx', '.ts', '.mts', '.cts', '.tsx'];
export const PY_EXTENSIONS = ['.py'];

const JS_SPECIFIER =
  /(?:\bimport\s*(?:type\s+)?(?:[\w*{}\s,$]{1,2000}?\s+from\s*)?|\bexport\s+(?:type\s+)?[\w*{}\s,$]{1,2000}?\s+from\s*|\brequire\s*\(\s*|\bimport\s*\(\s*)(['"])([^'"\n]+)\1/g;

/** The npm package a specifier names: `@langchain/core/messages` → `@langchain/core`; undefined for relative or `node:` specifiers. */
export function packageOfSpecifier(specifier: string): string | undefined {
  if (/^(\.|\/|node:|[a-z]+:)/i.test(specifier)) return undefined;
  const parts = specifier.split('/');
  if (specifier.startsWith('@')) return parts.length >= 2 && parts[1] ? `${parts[0]}/${parts[1]}` : undefined;
  return parts[0] || undefined;
}

/** npm package names imported or required by a JS/TS source text, in order of first appearance. */
export function jsImports(source: string): string[] {
  const found = new Set<string>();
  for (const m of source.matchAll(JS_SPECIFIER)) {
    const pkg = packageOfSpecifier(m[2]);
    if (pkg) found.add(pkg);
  }
  return [...found];
}

/** Absolute Python module names imported by a source text (`from .x import y` is relative and skipped). */
export function pythonImports(source: string): string[] {
  const found = new Set<string>();
  for (const rawLine of source.split(/\r?\n/)) {
    const line = rawLine.replace(/#.*$/, '');
    const from = /^\s*from\s+([A-Za-z_][\w.]*)\s+import\b/.exec(line);
    if (from) {
      found.add(from[1]);
      continue;
    }
    const imp = /^\s*import\s+(.+)$/.exec(line);
    if (!imp) continue;
    for (const part of imp[1].split(',')) {
      const name = /^\s*([A-Za-z_][\w.]*)/.exec(part.replace(/[()\\]/g, ''));
      if (name) found.add(name[1]);
    }
  }
  return [...found];
}
