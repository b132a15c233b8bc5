import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../src');
const CORE = join(SRC, 'core');
/** Folders of src that depend on core; core must never depend on them. */
const OUTSIDE_CORE = ['cli', 'commands', 'sidecar', 'sdk', 'scan', 'notify', 'alerts'];

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return tsFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** Every module specifier of a file: static imports and exports (type-only too) and dynamic import(). */
export function specifiersOf(source: string): string[] {
  const found: string[] = [];
  const patterns = [/\b(?:import|export)\s+(?:type\s+)?[^'";]*?\sfrom\s+['"]([^'"]+)['"]/g, /\bimport\s+['"]([^'"]+)['"]/g, /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g];
  for (const pattern of patterns) for (const match of source.matchAll(pattern)) found.push(match[1]!);
  return found;
}

/** The folder of src a relative specifier of `file` lands in, e.g. `scan`; undefined for packages and node: modules. */
function srcFolderOf(file: string, specifier: string): string | undefined {
  if (!specifier.startsWith('.')) return undefined;
  const target = relative(SRC, resolve(dirname(file), specifier));
  return target.startsWith('..') ? undefined : target.split(sep)[0];
}

describe('layout: dependencies point toward core', () => {
  it('reads the three forms of import', () => {
    const source = "import type { A } from '../../scan/types.js';\nexport { b } from './b.js';\nconst c = await import('../notify/config.js');\nimport './side-effect.js';";
    expect(specifiersOf(source).sort()).toEqual(['../../scan/types.js', '../notify/config.js', './b.js', './side-effect.js']);
  });

  it('no file in src/core imports src/cli, commands, sidecar, sdk, scan, notify or alerts', () => {
    const files = tsFiles(CORE);
    expect(files.length).toBeGreaterThan(100);
    const offending = files.flatMap((file) =>
      specifiersOf(readFileSync(file, 'utf8'))
        .filter((specifier) => OUTSIDE_CORE.includes(srcFolderOf(file, specifier) ?? ''))
        .map((specifier) => `${relative(SRC, file)} imports ${specifier}`),
    );
    expect(offending).toEqual([]);
  });
});
