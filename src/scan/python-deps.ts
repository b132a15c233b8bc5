/**
 * Python dependency declarations: requirements files (with `-r` includes), pyproject.toml (`[project]` and Poetry),
 * Pipfile and setup.py.
 */
import { parse as parseTomlDocument, TomlError as SmolTomlError, type TomlTableWithoutBigInt as TomlTable } from 'smol-toml';
import { notReadReason, readRegularFile } from './read-regular.js';
import { basename, dirname, join, relative } from 'node:path';
import { isPlainObject } from '../core/plain-object.js';

export interface PythonDependency {
  name: string;
  /** The specifier as written: `==1.2`, `>=0.3,<1`, `^0.1`, or undefined when none. */
  spec?: string;
  /** The exact version when the specifier pins one (`==1.2` → `1.2`). */
  version?: string;
  /** Where it was declared, e.g. `requirements.txt line 3`, `pyproject.toml [tool.poetry.dependencies]`. */
  source: string;
}

export class TomlError extends Error {
  override name = 'TomlError';
  constructor(message: string, readonly line: number, readonly column: number) {
    super(message);
  }
}

/**
 * Parses TOML 1.0 (pyproject.toml, Pipfile) with smol-toml. Tables come without a prototype, so a `__proto__` key
 * stays a key. Throws TomlError whose message ends with `at line:column` (1-based).
 */
export function parseToml(text: string): TomlTable {
  try {
    return parseTomlDocument(text, { integersAsBigInt: false });
  } catch (error) {
    if (!(error instanceof SmolTomlError)) throw error;
    // smol-toml's message is `Invalid TOML document: <reason>` followed by a code frame that quotes the file.
    const reason = error.message.split('\n')[0].replace(/^Invalid TOML document:\s*/, '');
    throw new TomlError(`${reason} at ${error.line}:${error.column}`, error.line, error.column);
  }
}

// ---------- requirement strings (PEP 508) ----------

/** `crewai[tools]>=0.1,<1 ; python_version>"3.8"` → name and specifier. Undefined for URLs, paths and options. */
export function parseRequirement(text: string, source: string): PythonDependency | undefined {
  const withoutMarker = text.split(';')[0].trim();
  const m = /^([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*(.*)$/.exec(withoutMarker);
  if (!m) return undefined;
  let spec = m[3].trim().replace(/^\((.*)\)$/, '$1').trim();
  if (spec.startsWith('@')) spec = ''; // `pkg @ https://…`: a direct reference, no version
  if (spec !== '' && !/^(===?|~=|!=|<=?|>=?)/.test(spec)) return undefined; // e.g. `./local-path`, `git+https://…`
  return { name: m[1], ...versionFields(spec), source };
}

function versionFields(spec: string): Pick<PythonDependency, 'spec' | 'version'> {
  if (spec === '' || spec === '*') return {};
  const exact = /^===?\s*([A-Za-z0-9.+!_-]+)$/.exec(spec);
  return exact ? { spec, version: exact[1] } : { spec };
}

// ---------- files ----------

export interface ParsedDeps {
  dependencies: PythonDependency[];
  /** Files read, relative to the project (for `-r` includes). */
  files: string[];
  problems: Array<{ file: string; reason: string }>;
}

/**
 * Reads a requirements file and its `-r` includes, each file at most once (pass the same `seen` set for several
 * files of one project). `-c` constraints files only pin versions and are not followed. Unreadable includes are
 * reported as problems.
 */
export async function readRequirements(file: string, projectDir: string, seen = new Set<string>()): Promise<ParsedDeps> {
  const result: ParsedDeps = { dependencies: [], files: [], problems: [] };
  const visit = async (path: string): Promise<void> => {
    if (seen.has(path) || seen.size >= 20) return;
    seen.add(path);
    const rel = relative(projectDir, path) || basename(path);
    let text: string;
    try {
      text = await readRegularFile(path);
    } catch (error) {
      result.problems.push({ file: path, reason: fsReason(error) });
      return;
    }
    result.files.push(rel);
    const lines = text.replace(/\\\r?\n/g, ' ').split(/\r?\n/);
    for (const [n, rawLine] of lines.entries()) {
      const lineText = rawLine.replace(/(^|\s)#.*$/, '').trim();
      if (lineText === '') continue;
      const include = /^(?:-r|--requirement)(?:\s+|=)(\S+)/.exec(lineText);
      if (include) {
        await visit(join(dirname(path), include[1]));
        continue;
      }
      if (lineText.startsWith('-')) continue; // -e, -c, --index-url, --hash …
      const dep = parseRequirement(lineText, `${rel} line ${n + 1}`);
      if (dep) result.dependencies.push(dep);
    }
  };
  await visit(file);
  return result;
}

const isTable = (v: unknown): v is TomlTable => isPlainObject(v);

/** `[project] dependencies`, `[project.optional-dependencies]` and Poetry's dependency tables (incl. groups). */
export function pyprojectDependencies(toml: TomlTable, file = 'pyproject.toml'): { name?: string; dependencies: PythonDependency[] } {
  const dependencies: PythonDependency[] = [];
  const project = isTable(toml.project) ? toml.project : {};
  const fromList = (list: unknown, where: string) => {
    if (!Array.isArray(list)) return;
    for (const item of list) {
      const dep = typeof item === 'string' ? parseRequirement(item, `${file} ${where}`) : undefined;
      if (dep) dependencies.push(dep);
    }
  };
  fromList(project.dependencies, '[project] dependencies');
  if (isTable(project['optional-dependencies'])) {
    for (const [extra, list] of Object.entries(project['optional-dependencies'])) {
      fromList(list, `[project.optional-dependencies] ${extra}`);
    }
  }
  const tool = isTable(toml.tool) ? toml.tool : {};
  const poetry = isTable(tool.poetry) ? tool.poetry : {};
  const tables: Array<[string, unknown]> = [
    ['[tool.poetry.dependencies]', poetry.dependencies],
    ['[tool.poetry.dev-dependencies]', poetry['dev-dependencies']],
  ];
  if (isTable(poetry.group)) {
    for (const [group, body] of Object.entries(poetry.group)) {
      if (isTable(body)) tables.push([`[tool.poetry.group.${group}.dependencies]`, body.dependencies]);
    }
  }
  for (const [where, table] of tables) dependencies.push(...poetryTable(table, `${file} ${where}`));
  const name = typeof project.name === 'string' ? project.name : typeof poetry.name === 'string' ? poetry.name : undefined;
  return { name, dependencies };
}

/** Poetry and Pipfile tables: `name = "^1.2"`, `name = "*"` or `name = { version = "^1.2", extras = [...] }`. */
export function poetryTable(table: unknown, source: string): PythonDependency[] {
  if (!isTable(table)) return [];
  const out: PythonDependency[] = [];
  for (const [name, value] of Object.entries(table)) {
    if (name.toLowerCase() === 'python') continue;
    const raw = typeof value === 'string' ? value : isTable(value) && typeof value.version === 'string' ? value.version : '';
    const spec = raw.trim();
    const exact = /^(==)?\s*(\d[A-Za-z0-9.+!_-]*)$/.exec(spec); // Poetry treats a bare version as exact
    out.push({ name, source, ...(spec === '' || spec === '*' ? {} : exact ? { spec, version: exact[2] } : { spec }) });
  }
  return out;
}

export function pipfileDependencies(toml: TomlTable, file = 'Pipfile'): PythonDependency[] {
  return [...poetryTable(toml.packages, `${file} [packages]`), ...poetryTable(toml['dev-packages'], `${file} [dev-packages]`)];
}

/** String literals in setup.py's `install_requires=[...]`. Read as text, never executed. */
export function setupPyDependencies(text: string, file = 'setup.py'): PythonDependency[] {
  const block = /install_requires\s*=\s*\[([\s\S]*?)\]/.exec(text);
  if (!block) return [];
  const out: PythonDependency[] = [];
  for (const m of block[1].matchAll(/(['"])(.*?)\1/g)) {
    const dep = parseRequirement(m[2], `${file} install_requires`);
    if (dep) out.push(dep);
  }
  return out;
}

export function fsReason(error: unknown): string {
  const notRead = notReadReason(error);
  if (notRead !== undefined) return notRead;
  const code = (error as NodeJS.ErrnoException)?.code;
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'ENOENT') return 'not found';
  if (code === 'ELOOP') return 'symbolic link loop';
  return code ? `unreadable (${code})` : `unreadable (${(error as Error)?.message ?? String(error)})`;
}
