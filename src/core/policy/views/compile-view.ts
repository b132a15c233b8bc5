import type { PathSegment } from '../problem.js';
import { getAll, getPath, MISSING } from '../path.js';
import { suggest } from '../schema.js';
import type { OperatorObject } from '../types.js';
import { DEFAULT_SQL_DIALECT, SQL_DIALECTS, type SqlDialect } from './sql.js';
import { describeViewType, isList, isRecord, type ViewRecord, type ViewType } from './view-type.js';
import { viewKinds, viewOf, viewSchema, type ViewKind } from './views.js';

type ValueTest = (value: unknown) => boolean;

/** How conditions.ts compiles an operator object (passed in, so the two modules do not import each other). */
export type CompileOperators = (ops: OperatorObject, at: PathSegment[]) => { test: ValueTest; label: string };

/** The same error class as conditions.ts: a compile problem at a place in the document. */
export type ProblemFactory = (message: string, segments: PathSegment[], hint?: string) => Error;

export const QUANTIFIERS = ['some', 'every', 'none'] as const;
const MAX_VIEW_DEPTH = 16;

interface Env {
  compileOps: CompileOperators;
  problem: ProblemFactory;
  kind: ViewKind;
}

/**
 * Compiles `shell: {…}` / `sql: {…}`: the value (a string) is parsed into its view and the operand, a condition over the
 * view's fields, is tested against it. Field names are checked against the view's schema here, so a misspelt field is a
 * compile error with the fields that exist, not a rule that silently never matches.
 */
export function compileViewOperator(kind: ViewKind, operand: unknown, at: PathSegment[], compileOps: CompileOperators, problem: ProblemFactory): ValueTest {
  if (!viewKinds.includes(kind)) throw problem(`unknown view "${kind}"`, at);
  if (operand === null || typeof operand !== 'object' || Array.isArray(operand)) {
    throw problem(`${kind} takes a condition on the parsed ${kind} view, such as { ${kind === 'shell' ? 'pipesIntoShell: true' : 'stacked: true'} }`, at);
  }
  const { dialect: dialectSpec, ...condition } = operand as Record<string, unknown>;
  let dialect: SqlDialect | undefined;
  if (dialectSpec !== undefined) {
    if (kind !== 'sql') throw problem(`"dialect" only applies to the sql view`, [...at, 'dialect']);
    if (typeof dialectSpec !== 'string' || !(SQL_DIALECTS as readonly string[]).includes(dialectSpec)) {
      throw problem(`unknown SQL dialect ${JSON.stringify(dialectSpec)}.${typeof dialectSpec === 'string' ? suggest(dialectSpec, SQL_DIALECTS) : ''}`, [...at, 'dialect'], `Dialects: ${SQL_DIALECTS.join(', ')}.`);
    }
    dialect = dialectSpec as SqlDialect;
  }
  if (Object.keys(condition).length === 0) throw problem(`${kind} needs at least one condition on its view`, at, `Fields: ${Object.keys(viewSchema(kind).fields).join(', ')}.`);
  const env: Env = { compileOps, problem, kind };
  const test = compileRecordCondition(condition, viewSchema(kind), at, env, 1);
  const options = kind === 'sql' ? dialect ?? DEFAULT_SQL_DIALECT : undefined;
  // The parser loads on the first text that needs it (a short-lived process deciding one call may never need it); a
  // parser that fails to load makes the condition an error, which denies like a text it cannot parse.
  return (value) => typeof value === 'string' && test(viewOf(kind, value, options));
}

function compileRecordCondition(cond: unknown, schema: ViewRecord, at: PathSegment[], env: Env, depth: number, owner = `the ${env.kind} view`): ValueTest {
  if (depth > MAX_VIEW_DEPTH) throw env.problem(`view conditions are nested more than ${MAX_VIEW_DEPTH} levels deep`, at);
  if (cond === null || typeof cond !== 'object' || Array.isArray(cond)) throw env.problem('a view condition must be an object of field: value', at);
  const tests: ValueTest[] = [];
  for (const [key, spec] of Object.entries(cond)) {
    const here = [...at, key];
    if (key === 'all' || key === 'any') {
      if (!Array.isArray(spec) || spec.length === 0) throw env.problem(`${key} takes a non-empty list of view conditions`, here);
      const parts = spec.map((c, i) => compileRecordCondition(c, schema, [...here, i], env, depth + 1, owner));
      tests.push(key === 'all' ? (v) => parts.every((t) => t(v)) : (v) => parts.some((t) => t(v)));
    } else if (key === 'not') {
      const inner = compileRecordCondition(spec, schema, here, env, depth + 1, owner);
      tests.push((v) => !inner(v));
    } else tests.push(compileField(key, spec, schema, here, env, depth, owner));
  }
  return (v) => {
    for (let i = 0; i < tests.length; i++) if (!tests[i](v)) return false;
    return true;
  };
}

/** Resolves a dot path against the schema: each segment a field of a record, `*` or an index of a list. */
function resolveType(pathText: string, schema: ViewRecord, at: PathSegment[], env: Env, owner: string): { segments: string[]; type: ViewType; wildcard: boolean } {
  const segments = pathText.split('.');
  let type: ViewType = schema;
  let wildcard = false;
  let walked = '';
  for (const s of segments) {
    if (isRecord(type)) {
      const fields = Object.keys(type.fields);
      if (!Object.prototype.hasOwnProperty.call(type.fields, s)) {
        const where = walked ? `"${walked}" in ${owner}` : owner;
        throw env.problem(`${where} has no field "${s}".${suggest(s, fields)}`, at, `Fields: ${fields.join(', ')}.`);
      }
      type = type.fields[s].type;
    } else if (isList(type)) {
      if (s !== '*' && !/^(0|[1-9]\d*)$/.test(s)) {
        throw env.problem(`"${walked}" is ${describeViewType(type)}: the next segment is * (any item) or an index, not "${s}"`, at, `For a condition on one item, use ${walked}: { some: {…} }.`);
      }
      wildcard ||= s === '*';
      type = type.list;
    } else {
      throw env.problem(`"${walked}" is ${describeViewType(type)}, so "${pathText}" can never exist`, at);
    }
    walked = walked ? `${walked}.${s}` : s;
  }
  return { segments, type, wildcard };
}

function compileField(pathText: string, spec: unknown, schema: ViewRecord, at: PathSegment[], env: Env, depth: number, owner: string): ValueTest {
  const { segments, type, wildcard } = resolveType(pathText, schema, at, env, owner);
  let test: ValueTest;
  let absent = false;
  if (spec !== null && typeof spec === 'object' && !Array.isArray(spec)) {
    test = compileViewOperators(spec as Record<string, unknown>, type, pathText, at, env, depth);
    absent = (spec as { exists?: unknown }).exists === false;
  } else if (Array.isArray(spec)) {
    throw env.problem('a list is not a value to compare with', at, 'Use { in: [a, b] } for "one of", or { contains: x } for a list that holds x.');
  } else {
    const expected = type === 'boolean' ? 'boolean' : type === 'number' ? 'number' : type === 'string' ? 'string' : undefined;
    if (expected === undefined || typeof spec !== expected) {
      throw env.problem(`${pathText} is ${describeViewType(type)}; ${JSON.stringify(spec)} never equals it`, at, isList(type) ? `Use { contains: ${JSON.stringify(spec)} } for a list that holds it.` : undefined);
    }
    test = (v) => v === spec;
  }
  if (wildcard) {
    return (view) => {
      const values = getAll(view, segments);
      return values.length === 0 ? absent : values.some(test);
    };
  }
  return (view) => {
    const v = getPath(view, segments);
    return v === MISSING || v === undefined ? absent : test(v);
  };
}

/** Operators on a view field; on a list of objects, some / every / none take a view condition on one item. */
function compileViewOperators(ops: Record<string, unknown>, type: ViewType, pathText: string, at: PathSegment[], env: Env, depth: number): ValueTest {
  const itemRecord = isList(type) && isRecord(type.list) ? type.list : undefined;
  const tests: ValueTest[] = [];
  const rest: Record<string, unknown> = {};
  for (const [op, operand] of Object.entries(ops)) {
    const here = [...at, op];
    if ((QUANTIFIERS as readonly string[]).includes(op)) {
      if (!isList(type)) throw env.problem(`${op} applies to a list, and ${pathText} is ${describeViewType(type)}`, here);
      if (!itemRecord) {
        rest[op] = operand;
        continue;
      }
      const item = compileRecordCondition(operand, itemRecord, here, env, depth + 1, `an item of ${pathText}`);
      const quantified = (list: unknown[]) => (op === 'some' ? list.some(item) : op === 'every' ? list.every(item) : !list.some(item));
      tests.push((v) => Array.isArray(v) && quantified(v));
    } else if (op === 'not' && itemRecord && operand !== null && typeof operand === 'object' && Object.keys(operand).some((k) => (QUANTIFIERS as readonly string[]).includes(k))) {
      const inner = compileViewOperators(operand as Record<string, unknown>, type, pathText, here, env, depth + 1);
      tests.push((v) => !inner(v));
    } else rest[op] = operand;
  }
  if (Object.keys(rest).length > 0) {
    checkOperatorTypes(rest, type, pathText, at, env);
    const fromOps = env.compileOps(rest as OperatorObject, at).test;
    tests.push(fromOps);
  }
  return (v) => {
    for (let i = 0; i < tests.length; i++) if (!tests[i](v)) return false;
    return true;
  };
}

const STRING_OPERATORS = new Set(['glob', 'regex', 'flags', 'unsafeRegex', 'maxLength', 'startsWith', 'endsWith']);
const NUMBER_OPERATORS = new Set(['gt', 'gte', 'lt', 'lte']);

/** An operator that can never hold for the field's type (glob on a boolean, gt on a list) is a compile error, not a rule that never matches. */
function checkOperatorTypes(ops: Record<string, unknown>, type: ViewType, pathText: string, at: PathSegment[], env: Env): void {
  for (const [op, operand] of Object.entries(ops)) {
    const here = [...at, op];
    const wrong = (fits: string, hint?: string) => env.problem(`${op} applies to ${fits}, and ${pathText} is ${describeViewType(type)}`, here, hint);
    if (STRING_OPERATORS.has(op) && type !== 'string') {
      throw wrong('a string', isList(type) && type.list === 'string' ? `For a list of strings, use ${pathText}: { some: { ${op}: … } }.` : undefined);
    }
    if (NUMBER_OPERATORS.has(op) && type !== 'number') throw wrong('a number');
    if (op === 'contains' && type !== 'string' && !isList(type)) throw wrong('a string or a list');
    if ((op === 'in' || op === 'eq' || op === 'ne') && (type === 'string' || type === 'boolean' || type === 'number')) {
      const values = op === 'in' && Array.isArray(operand) ? operand : [operand];
      const bad = values.find((v) => typeof v !== type);
      if (bad !== undefined) throw env.problem(`${pathText} is ${describeViewType(type)}; ${JSON.stringify(bad)} never equals it`, here);
    }
    if (op === 'not' && operand !== null && typeof operand === 'object' && !Array.isArray(operand)) checkOperatorTypes(operand as Record<string, unknown>, type, pathText, here, env);
    if ((QUANTIFIERS as readonly string[]).includes(op) && isList(type) && operand !== null && typeof operand === 'object' && !Array.isArray(operand)) {
      checkOperatorTypes(operand as Record<string, unknown>, type.list, `an item of ${pathText}`, here, env);
    }
  }
}
