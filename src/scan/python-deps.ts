/**
 * Python dependency declarations: requirements files (with `-r` includes), pyproject.toml (`[project]` and Poetry),
 * Pipfile and setup.py. No TOML library is installed, so a minimal TOML reader covers what these files use.
 */
import { notReadReason, readRegularFile } from './read-regular.js';
import { basename, dirname, join, relative } from 'node:path';

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
}

// ---------- minimal TOML reader ----------

type TomlValue = string | number | boolean | TomlValue[] | { [key: string]: TomlValue };
type TomlTable = { [key: string]: TomlValue };

/**
 * Parses the TOML used by pyproject.toml and Pipfile: tables, array tables, dotted and quoted keys, basic and
 * literal strings (single and multi-line), numbers, booleans, dates (kept as text), arrays and inline tables.
 * Throws TomlError with a line number on anything it cannot read.
 */
export function parseToml(text: string): TomlTable {
  let i = 0;
  let line = 1;
  const root: TomlTable = {};
  let current: TomlTable = root;

  const fail = (message: string): never => {
    throw new TomlError(`${message} at line ${line}`);
  };
  const peek = () => text[i];
  const advance = () => {
    if (text[i] === '\n') line++;
    i++;
  };
  const skipSpaces = () => {
    while (peek() === ' ' || peek() === '\t') advance();
  };
  const skipComment = () => {
    if (peek() === '#') while (i < text.length && peek() !== '\n') advance();
  };
  /** Spaces, newlines and comments: allowed between array items. */
  const skipBlank = () => {
    for (;;) {
      skipSpaces();
      skipComment();
      if (peek() === '\n' || peek() === '\r') advance();
      else return;
    }
  };
  const endOfLine = () => {
    skipSpaces();
    skipComment();
    if (peek() === '\r') advance();
    if (i < text.length && peek() !== '\n') fail(`unexpected "${peek()}"`);
    if (i < text.length) advance();
  };

  const readString = (): string => {
    const quote = peek();
    const multi = text.startsWith(quote.repeat(3), i);
    if (multi) {
      i += 3;
      if (peek() === '\r') advance();
      if (peek() === '\n') advance();
    } else advance();
    let out = '';
    for (;;) {
      if (i >= text.length) fail('unterminated string');
      if (multi ? text.startsWith(quote.repeat(3), i) : peek() === quote) {
        i += multi ? 3 : 1;
        return out;
      }
      const c = peek();
      if (!multi && c === '\n') fail('newline in string');
      if (quote === '"' && c === '\\') {
        advance();
        const e = peek();
        const simple: Record<string, string> = { b: '\b', t: '\t', n: '\n', f: '\f', r: '\r', '"': '"', '\\': '\\' };
        if (e in simple) {
          out += simple[e];
          advance();
        } else if (e === 'u' || e === 'U') {
          const len = e === 'u' ? 4 : 8;
          const hex = text.slice(i + 1, i + 1 + len);
          if (!/^[0-9a-fA-F]+$/.test(hex) || hex.length !== len) fail('bad unicode escape');
          out += String.fromCodePoint(parseInt(hex, 16));
          i += 1 + len;
        } else if (multi && (e === '\n' || e === ' ' || e === '\t' || e === '\r')) {
          // line-ending backslash: trim the newline and following whitespace
          while (/[ \t\r\n]/.test(peek() ?? '')) advance();
        } else fail(`bad escape "\\${e}"`);
        continue;
      }
      out += c;
      advance();
    }
  };

  const readKeyPart = (): string => {
    const c = peek();
    if (c === '"' || c === "'") return readString();
    const m = /^[A-Za-z0-9_-]+/.exec(text.slice(i, i + 256));
    if (!m) fail(c === undefined ? 'missing key' : `unexpected "${c}" in key`);
    i += m![0].length;
    return m![0];
  };
  const readKey = (): string[] => {
    const parts = [readKeyPart()];
    skipSpaces();
    while (peek() === '.') {
      advance();
      skipSpaces();
      parts.push(readKeyPart());
      skipSpaces();
    }
    return parts;
  };

  const readValue = (): TomlValue => {
    const c = peek();
    if (c === '"' || c === "'") return readString();
    if (c === '[') {
      advance();
      const items: TomlValue[] = [];
      for (;;) {
        skipBlank();
        if (peek() === ']') {
          advance();
          return items;
        }
        items.push(readValue());
        skipBlank();
        if (peek() === ',') advance();
        else if (peek() !== ']') fail('expected "," or "]" in array');
      }
    }
    if (c === '{') {
      advance();
      const table: TomlTable = {};
      skipSpaces();
      if (peek() === '}') {
        advance();
        return table;
      }
      for (;;) {
        skipSpaces();
        const key = readKey();
        if (peek() !== '=') fail('expected "=" in inline table');
        advance();
        skipSpaces();
        assign(table, key, readValue());
        skipSpaces();
        if (peek() === ',') advance();
        else if (peek() === '}') {
          advance();
          return table;
        } else fail('expected "," or "}" in inline table');
      }
    }
    const m = /^[^\s,\]}#]+/.exec(text.slice(i, i + 256));
    if (!m) fail(c === undefined || c === '\n' ? 'missing value' : `unexpected "${c}"`);
    const raw = m![0];
    i += raw.length;
    if (raw === 'true') return true;
    if (raw === 'false') return false;
    const num = raw.replace(/_/g, '');
    if (/^[+-]?(\d+(\.\d+)?([eE][+-]?\d+)?|0x[0-9a-fA-F]+|0o[0-7]+|0b[01]+|inf|nan)$/.test(num)) return Number(num);
    if (/^\d{4}-\d{2}-\d{2}|^\d{2}:\d{2}/.test(raw)) {
      // A date-time may have a space before its time part.
      const time = /^ \d{2}:\d{2}[^\s,\]}#]*/.exec(text.slice(i, i + 64));
      if (time) i += time[0].length;
      return raw + (time ? time[0] : '');
    }
    return fail(`bad value "${raw}"`);
  };

  function assign(table: TomlTable, key: string[], value: TomlValue) {
    let t = table;
    for (const part of key.slice(0, -1)) {
      const next = t[part] ?? (t[part] = {});
      if (typeof next !== 'object' || Array.isArray(next)) fail(`key "${key.join('.')}" is not a table`);
      t = next as TomlTable;
    }
    const last = key[key.length - 1];
    if (last in t) fail(`duplicate key "${key.join('.')}"`);
    t[last] = value;
  }

  const tableAt = (key: string[], arrayTable: boolean): TomlTable => {
    let t = root;
    key.forEach((part, n) => {
      let next = t[part];
      const isLast = n === key.length - 1;
      if (isLast && arrayTable) {
        if (next === undefined) next = t[part] = [];
        if (!Array.isArray(next)) fail(`"${key.join('.')}" is not an array of tables`);
        const entry: TomlTable = {};
        (next as TomlValue[]).push(entry);
        t = entry;
        return;
      }
      if (next === undefined) next = t[part] = {};
      if (Array.isArray(next)) next = next[next.length - 1];
      if (typeof next !== 'object' || next === null || Array.isArray(next)) fail(`"${key.join('.')}" is not a table`);
      t = next as TomlTable;
    });
    return t;
  };

  while (i < text.length) {
    skipBlank();
    if (i >= text.length) break;
    if (peek() === '[') {
      const arrayTable = text[i + 1] === '[';
      i += arrayTable ? 2 : 1;
      skipSpaces();
      const key = readKey();
      if (!text.startsWith(arrayTable ? ']]' : ']', i)) fail('expected "]" after table name');
      i += arrayTable ? 2 : 1;
      current = tableAt(key, arrayTable);
      endOfLine();
      continue;
    }
    const key = readKey();
    if (peek() !== '=') fail('expected "=" after key');
    advance();
    skipSpaces();
    assign(current, key, readValue());
    endOfLine();
  }
  return root;
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

const isTable = (v: unknown): v is TomlTable => typeof v === 'object' && v !== null && !Array.isArray(v);

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
