import { LRUCache } from 'lru-cache';
import { parseShell, SHELL_SCHEMA } from './shell.js';
import { DEFAULT_SQL_DIALECT, parseSql, SQL_SCHEMA, type SqlDialect } from './sql.js';
import type { ViewRecord } from './view-type.js';

/** The parsed views the policy language has, by operator name. */
export const viewKinds = ['shell', 'sql'] as const;
export type ViewKind = (typeof viewKinds)[number];

export function viewSchema(kind: ViewKind): ViewRecord {
  return kind === 'shell' ? SHELL_SCHEMA : SQL_SCHEMA;
}

/** Parsed views of recent texts: several rules read the same command, and an agent repeats itself. Errors are kept too. */
const CACHE_LIMIT = 512;
const cache = new LRUCache<string, object>({ max: CACHE_LIMIT });

class ViewError extends Error {}

/**
 * The view of `text` (cached), or a thrown Error saying why the text is not accepted (or the parser could not be
 * loaded): the condition then errors, which a deny rule counts as a deny and an allow rule never turns into an allow.
 */
export function viewOf(kind: ViewKind, text: string, dialect: SqlDialect | undefined): unknown {
  const key = `${kind}\u0000${dialect ?? ''}\u0000${text}`;
  let entry: unknown = cache.get(key);
  if (entry === undefined) {
    try {
      entry = kind === 'shell' ? parseShell(text) : parseSql(text, dialect ?? DEFAULT_SQL_DIALECT);
    } catch (error) {
      entry = { error: error instanceof Error ? error.message : String(error) };
    }
    cache.set(key, entry as object);
  }
  if (entry instanceof Object && 'error' in entry && Object.keys(entry).length === 1) throw new ViewError(`the ${kind} view: ${(entry as { error: string }).error}`);
  return entry;
}
