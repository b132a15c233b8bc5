import { createRequire } from 'node:module';
import type { ViewRecord } from './view-type.js';

/** Longest SQL text parsed (UTF-16 code units); a longer one makes the condition an error, which denies. */
export const MAX_SQL_LENGTH = 8_192;

/** Most tokens (words, literals, punctuation) an SQL text may have: parse time grows with them. More denies. */
export const MAX_SQL_TOKENS = 1_000;
const SQL_TOKEN = /'(?:[^']|'')*'|"(?:[^"]|"")*"|\w+|[^\s\w]/g;

/** The number of tokens of an SQL text, counted without parsing (up to the limit + 1). */
export function sqlTokenCount(text: string): number {
  let count = 0;
  SQL_TOKEN.lastIndex = 0;
  while (SQL_TOKEN.exec(text) !== null) if (++count > MAX_SQL_TOKENS) break;
  return count;
}

/** Dialects of node-sql-parser the `sql` operator accepts (`dialect:`; default postgresql). */
export const SQL_DIALECTS = ['postgresql', 'mysql', 'mariadb', 'sqlite', 'transactsql', 'bigquery', 'snowflake', 'redshift', 'db2', 'hive', 'athena', 'trino', 'flinksql'] as const;
export type SqlDialect = (typeof SQL_DIALECTS)[number];
export const DEFAULT_SQL_DIALECT: SqlDialect = 'postgresql';

export interface SqlView {
  statements: string[];
  kinds: string[];
  functions: string[];
  tables: string[];
  into: boolean;
  locking: boolean;
  stacked: boolean;
  executableComment: boolean;
}

export const SQL_SCHEMA: ViewRecord = {
  fields: {
    statements: { type: { list: 'string' }, doc: 'The kind of each top-level statement, lower case: select, insert, update, delete, create, drop, alter, show, explain, …' },
    kinds: { type: { list: 'string' }, doc: 'Every statement kind anywhere in the text: top level, subqueries, CTE bodies, the statement under EXPLAIN, INSERT … SELECT.' },
    functions: {
      type: { list: 'string' },
      doc: 'Every function called, lower case, with quotes and comments resolved ("pg_read_file", pg_read_file/**/(…)); schema-qualified as written (pg_catalog.pg_sleep, utl_http.request). Aggregates (count, sum) included.',
    },
    tables: { type: { list: 'string' }, doc: 'Every table read or written, lower case: its name, and also schema.name when qualified.' },
    into: { type: 'boolean', doc: 'A SELECT … INTO, which creates a table, writes a file (INTO OUTFILE) or sets variables.' },
    locking: { type: 'boolean', doc: 'A locking read (SELECT … FOR UPDATE / FOR SHARE / LOCK IN SHARE MODE), which blocks writers.' },
    stacked: { type: 'boolean', doc: 'More than one statement.' },
    executableComment: { type: 'boolean', doc: 'The text holds a MySQL /*! … */ comment, whose body MySQL runs as SQL.' },
  },
};

interface SqlParser {
  parse(sql: string, options: { database: string }): { tableList: string[]; ast: unknown };
}

const parsers = new Map<SqlDialect, SqlParser>();

/** node-sql-parser ships one build per dialect (about 200 kB each): loaded the first time a policy uses that dialect. */
export function loadSqlParser(dialect: SqlDialect): SqlParser {
  let parser = parsers.get(dialect);
  if (!parser) {
    const { Parser } = createRequire(import.meta.url)(`node-sql-parser/build/${dialect}`) as { Parser: new () => SqlParser };
    parser = new Parser();
    parsers.set(dialect, parser);
  }
  return parser;
}

/** Statement node types of node-sql-parser's AST (expression nodes have other types). */
const STATEMENT_TYPES = new Set([
  'select', 'insert', 'replace', 'update', 'delete', 'create', 'drop', 'alter', 'truncate', 'rename', 'grant', 'revoke', 'use', 'show',
  'desc', 'explain', 'call', 'exec', 'execute', 'set', 'lock', 'unlock', 'transaction', 'load_data', 'declare', 'merge', 'upsert', 'copy', 'if', 'go', 'analyze', 'attach', 'detach', 'vacuum', 'pragma', 'comment', 'deallocate', 'prepare', 'return', 'raise',
]);

// `EXPLAIN [ANALYZE] [VERBOSE] [(options)] statement`: not every dialect's grammar has it, so it is taken off here and
// the statement under it parsed alone. Only whole leading keywords are removed; the rest must parse.
const EXPLAIN = /^(?:\s|--[^\n]*(?:\n|$)|\/\*(?:[^*]|\*+[^*/])*\*+\/)*explain\b((?:\s+(?:analy[sz]e|verbose)\b)*\s*(?:\((?:[^()'"]|'[^']*')*\))?)/i;

function nameOf(node: Record<string, unknown>): string | undefined {
  const name = node.name;
  if (typeof name === 'string') return name;
  if (name && typeof name === 'object') {
    const parts = (name as { name?: Array<{ value?: unknown }> }).name;
    if (!Array.isArray(parts)) return undefined;
    const base = parts.map((p) => String(p?.value ?? '')).join('.');
    const schema = (name as { schema?: { value?: unknown } }).schema?.value;
    return typeof schema === 'string' && schema !== '' ? `${schema}.${base}` : base;
  }
  return undefined;
}

/** Every function name and statement kind in an AST, by a walk over every object in it. */
function walk(ast: unknown, functions: Set<string>, kinds: Set<string>, into: { found: boolean; locking: boolean }): void {
  const stack: unknown[] = [ast];
  let visited = 0;
  while (stack.length > 0) {
    const node = stack.pop();
    if (++visited > 1_000_000) throw new Error('the SQL has too many parts to inspect');
    if (Array.isArray(node)) {
      for (const item of node) stack.push(item);
      continue;
    }
    if (node === null || typeof node !== 'object') continue;
    const record = node as Record<string, unknown>;
    const type = typeof record.type === 'string' ? record.type.toLowerCase() : undefined;
    if (type === 'function' || type === 'aggr_func' || type === 'window_func') {
      const name = nameOf(record);
      // A function whose name the AST does not give is not a name a list can allow.
      functions.add(name === undefined ? '?' : name.toLowerCase());
    } else if (type && STATEMENT_TYPES.has(type)) {
      kinds.add(type);
    }
    if (type === 'select' && record.into && typeof record.into === 'object' && (record.into as { expr?: unknown }).expr) into.found = true;
    if (type === 'select' && record.locking_read) into.locking = true;
    for (const value of Object.values(record)) if (value !== null && typeof value === 'object') stack.push(value);
  }
}

/** Parses SQL in a dialect into the view rules match (see SQL_SCHEMA). Throws for SQL the parser rejects or that is too long. */
export function parseSql(text: string, dialect: SqlDialect = DEFAULT_SQL_DIALECT): SqlView {
  if (text.length > MAX_SQL_LENGTH) throw new Error(`the SQL is ${text.length} characters, longer than the ${MAX_SQL_LENGTH} the sql view parses`);
  if (sqlTokenCount(text) > MAX_SQL_TOKENS) throw new Error(`the SQL has more than ${MAX_SQL_TOKENS} tokens, more than the sql view parses`);
  const explain = EXPLAIN.exec(text);
  const body = explain ? text.slice(explain[0].length) : text;
  let parsed: { tableList: string[]; ast: unknown };
  try {
    parsed = loadSqlParser(dialect).parse(body, { database: dialect });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(`not SQL the ${dialect} parser accepts (${message.length > 160 ? `${message.slice(0, 157)}…` : message})`);
  }
  const statements = (Array.isArray(parsed.ast) ? parsed.ast : [parsed.ast]).filter((s) => s !== null && typeof s === 'object') as Array<Record<string, unknown>>;
  const functions = new Set<string>();
  const kinds = new Set<string>();
  const into = { found: false, locking: false };
  walk(statements, functions, kinds, into);
  const tables = new Set<string>();
  for (const entry of parsed.tableList ?? []) {
    const [kind, db, table] = entry.split('::');
    if (kind) kinds.add(kind.toLowerCase());
    if (!table) continue;
    tables.add(table.toLowerCase());
    if (db && db !== 'null') tables.add(`${db}.${table}`.toLowerCase());
  }
  const tops = statements.map((s) => String(s.type ?? '?').toLowerCase());
  if (explain) kinds.add('explain');
  return {
    statements: explain ? ['explain'] : tops,
    kinds: [...kinds],
    functions: [...functions],
    tables: [...tables],
    into: into.found,
    locking: into.locking,
    stacked: statements.length > 1,
    executableComment: text.includes('/*!'),
  };
}
