import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ERRORS_DOC, renderErrorsDoc } from '../scripts/build-errors-doc.js';
import { AgentGuardError, ERROR_AREAS, ERRORS, errorSpec, isErrorCode, type ErrorCode } from '../src/core/errors.js';

const SRC = fileURLToPath(new URL('../src/', import.meta.url));
const REGISTRY_DIR = join(SRC, 'core', 'errors');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return path === REGISTRY_DIR ? [] : sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** `| \`CODE\` | status | exit | meaning | fix |` rows of docs/errors.md. */
function documentedRows(page: string): Map<string, { status: number; exit: number }> {
  const rows = new Map<string, { status: number; exit: number }>();
  for (const m of page.matchAll(/^\| `([A-Z][A-Z0-9_]*)` \| (\d+) \| (\d+) \|/gm)) rows.set(m[1]!, { status: Number(m[2]), exit: Number(m[3]) });
  return rows;
}

/** Codes of other systems that the source reads or passes on: Node's errno, SQLite's, fastify's, yaml's, process warnings'. */
const FOREIGN = /^(E[A-Z]+|SQLITE_[A-Z_]+|FST_ERR_[A-Z_]+|AGENTGUARD_[A-Z_]+|DUPLICATE_KEY)$/;

/**
 * Codes the source hands to an error: the first argument of `new AgentGuardError(` and of `super(` in its subclasses,
 * `code:` in objects that become errors (parser problems, reload results, renamed fastify errors, readTextFile's
 * option) and codes compared with `code ===`. Both codes of a `cond ? 'A' : 'B'` in the arguments count.
 */
function codesUsedIn(source: string): string[] {
  // Comments do not throw anything (an @example may name a code).
  const text = source.replace(/^\s*\/\*[\s\S]*?\*\//gm, '').replace(/^\s*\/\/.*$/gm, '');
  const codes: string[] = [];
  const literal = String.raw`'([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+|[A-Z]{4,})'`;
  const contexts = [
    String.raw`new AgentGuardError\(\s*(?:[^,()]*\?\s*)?${literal}(?:\s*:\s*${literal})?`,
    String.raw`super\(\s*(?:[^,()]*\?\s*)?${literal}(?:\s*:\s*${literal})?`,
    String.raw`\bcode(?:\s*\?\?|\s*[!=]==|\s*:)\s*${literal}`,
    // A choice between two codes anywhere in the constructor call's arguments.
    String.raw`(?:new AgentGuardError|super)\([^;]*?\?\s*${literal}\s*:\s*${literal}`,
  ];
  for (const context of contexts) {
    for (const m of text.matchAll(new RegExp(context, 'g'))) codes.push(...m.slice(1).filter((c): c is string => c !== undefined));
  }
  return codes;
}

describe('the error registry', () => {
  const codes = Object.keys(ERRORS) as ErrorCode[];

  it('has each code in exactly one area', () => {
    const perArea = Object.values(ERROR_AREAS).flatMap((area) => Object.keys(area));
    expect(perArea.length).toBe(codes.length);
    expect(new Set(perArea).size).toBe(perArea.length);
  });

  it.each(codes)('%s: a 4xx/5xx status, a non-zero exit code, a meaning and a fix', (code) => {
    const spec = errorSpec(code);
    expect(code).toMatch(/^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$/);
    expect(Number.isInteger(spec.status) && spec.status >= 400 && spec.status <= 599).toBe(true);
    expect(Number.isInteger(spec.exit) && spec.exit >= 1 && spec.exit <= 255).toBe(true);
    expect(spec.meaning.trim().length).toBeGreaterThan(10);
    expect(spec.fix.trim().length).toBeGreaterThan(5);
    expect(spec.meaning.endsWith('.') && spec.fix.endsWith('.')).toBe(true);
  });

  it('gives AgentGuardError its status, exit code and (when none are given) its fix as actions', () => {
    for (const code of codes) {
      const error = new AgentGuardError(code, 'm');
      expect([error.status, error.exitCode, error.actions]).toEqual([ERRORS[code].status, ERRORS[code].exit, [ERRORS[code].fix]]);
      expect(error.toBody()).toEqual({ error: { code, message: 'm', actions: [ERRORS[code].fix] } });
    }
    expect(new AgentGuardError('USAGE', 'm', { actions: [], exitCode: 1, status: 422 })).toMatchObject({ actions: [], exitCode: 1, status: 422 });
  });

  it('isErrorCode accepts the registered codes and nothing else (codes that arrive as text: a child\'s stderr, a sidecar body)', () => {
    for (const code of codes) expect(isErrorCode(code)).toBe(true);
    fc.assert(fc.property(fc.string(), (text) => isErrorCode(text) === Object.prototype.hasOwnProperty.call(ERRORS, text)));
    for (const text of ['toString', '__proto__', 'constructor', 'usage', 'USAGE ', '', undefined, 7]) expect(isErrorCode(text)).toBe(false);
  });

  it('registers every code the source gives an error, and every registered code is used', () => {
    const used = new Map<string, string>();
    for (const file of sourceFiles(SRC)) {
      for (const code of codesUsedIn(readFileSync(file, 'utf8'))) if (!FOREIGN.test(code)) used.set(code, relative(SRC, file));
    }
    // The scan itself must find the codes it is meant to find, or this test would pass by finding nothing.
    expect(used.size).toBeGreaterThan(100);
    const unregistered = [...used].filter(([code]) => !isErrorCode(code)).map(([code, file]) => `${code} (src/${file})`);
    expect(unregistered, 'codes used in src/ but not registered in src/core/errors/codes/').toEqual([]);
    const unused = codes.filter((code) => !used.has(code));
    expect(unused, 'registered codes no source file throws').toEqual([]);
  });
});

describe('docs/errors.md', () => {
  const page = readFileSync(ERRORS_DOC, 'utf8');
  const rows = documentedRows(page);

  it('lists every registered code with its status and exit code, and no other code', () => {
    const missing = Object.keys(ERRORS).filter((code) => !rows.has(code));
    const unknown = [...rows.keys()].filter((code) => !isErrorCode(code));
    const differing = [...rows].filter(([code, row]) => isErrorCode(code) && (row.status !== ERRORS[code].status || row.exit !== ERRORS[code].exit)).map(([code]) => code);
    expect({ missing, unknown, differing }, 'run `npm run docs:errors`').toEqual({ missing: [], unknown: [], differing: [] });
  });

  it('is exactly what `npm run docs:errors` writes (meanings and fixes included)', () => {
    expect(page === renderErrorsDoc(), 'docs/errors.md is out of date: run `npm run docs:errors`').toBe(true);
  });
});
