/**
 * The shape of a parsed view (`shell`, `sql`): which fields a view condition may name and what each holds, so that
 * a policy naming a field that does not exist fails to compile with the list of fields, not silently never matches.
 */
export type ViewType = 'string' | 'boolean' | 'number' | ViewList | ViewRecord;

export interface ViewList {
  list: ViewType;
}

export interface ViewRecord {
  fields: Record<string, { type: ViewType; doc: string }>;
}

export function isList(t: ViewType): t is ViewList {
  return typeof t === 'object' && 'list' in t;
}

export function isRecord(t: ViewType): t is ViewRecord {
  return typeof t === 'object' && 'fields' in t;
}

/** "a list of strings", "a boolean", … for messages. */
export function describeViewType(t: ViewType): string {
  if (t === 'string' || t === 'number') return `a ${t}`;
  if (t === 'boolean') return 'a boolean';
  if (isList(t)) {
    const inner = describeViewType(t.list).replace(/^an? /, '');
    return `a list of ${inner === 'boolean' ? 'booleans' : isRecord(t.list) ? 'objects' : `${inner}s`}`;
  }
  return 'an object';
}

/** A parsed view: the object a view condition is evaluated against. */
export interface ParsedView {
  readonly kind: string;
  readonly schema: ViewRecord;
  /** Parses a value; throws an Error whose message says why the value is not accepted (the condition then errors). */
  parse(text: string): unknown;
}
