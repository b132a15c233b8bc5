import { compileCondition, deepEqual } from '../conditions.js';
import { parsePath, setPath } from '../path.js';
import type { PathSegment } from '../problem.js';
import type { Condition, OperatorObject } from '../types.js';

/** The JSON types a value can have, as bits, so that "what types can this path have here" is an intersection. */
export const T = { string: 1, number: 2, boolean: 4, null: 8, array: 16, object: 32 } as const;
export const ANY_TYPE = 63;
export const CONTAINER_TYPES = T.array | T.object;

/** One `path: spec` entry of a `when` object. */
export interface PathCheck {
  pathText: string;
  segments: string[];
  wildcard: boolean;
  /** A literal, or an operator object. */
  spec: unknown;
  /** Where the entry's key sits in the document. */
  at: PathSegment[];
  /** `exists: false`: the entry holds exactly when the path is missing (its other operators are never evaluated). */
  absent: boolean;
}

/** One operator of a PathCheck; a literal spec is an `eq` atom, `regex` carries its flags. */
export interface Atom {
  op: string;
  operand: unknown;
  at: PathSegment[];
}

/** The entries of a `when` that must all hold, with the `any` and `not` parts kept apart. */
export interface Conjunction {
  at: PathSegment[];
  checks: PathCheck[];
  anys: Array<{ at: PathSegment[]; branches: Conjunction[] }>;
  nots: Array<{ at: PathSegment[]; condition: Condition }>;
  /** `detect` conditions (and `time`, as `{ time }`): their truth depends on guardrails or the clock, so lint treats them as unknown. */
  detects: unknown[];
}

/** Fields every valid action has, with their types: rules only ever see actions that passed checkAction. */
const INTRINSIC: Record<string, { types: number; always: boolean }> = {
  kind: { types: T.string, always: true },
  name: { types: T.string, always: true },
  agent: { types: T.object, always: false },
  input: { types: T.object, always: false },
  context: { types: T.object, always: false },
  'agent.id': { types: T.string, always: false },
};

export function intrinsicTypes(pathText: string): number {
  return INTRINSIC[pathText]?.types ?? ANY_TYPE;
}

/** True for `kind` and `name`, which every action has. */
export function alwaysPresent(pathText: string): boolean {
  return INTRINSIC[pathText]?.always ?? false;
}

export function isOperatorObject(spec: unknown): spec is OperatorObject {
  return spec !== null && typeof spec === 'object' && !Array.isArray(spec);
}

/** Builds a PathCheck for a key of a `when` object (the key must be a valid path: the policy compiled). */
export function makeCheck(pathText: string, spec: unknown, at: PathSegment[]): PathCheck {
  const parsed = parsePath(pathText);
  const segments = typeof parsed === 'string' ? [pathText] : parsed.segments;
  return {
    pathText,
    segments,
    wildcard: segments.includes('*'),
    spec,
    at,
    absent: isOperatorObject(spec) && spec.exists === false,
  };
}

/** Flattens a `when` (its keys and nested `all` items) into one conjunction. */
export function collectConjunction(when: Condition | undefined, at: PathSegment[]): Conjunction {
  const conj: Conjunction = { at, checks: [], anys: [], nots: [], detects: [] };
  const visit = (cond: Condition, here: PathSegment[]) => {
    if (cond === null || typeof cond !== 'object') return;
    for (const [key, spec] of Object.entries(cond)) {
      const keyAt = [...here, key];
      if (key === 'all') (spec as Condition[]).forEach((item, i) => visit(item, [...keyAt, i]));
      else if (key === 'any') conj.anys.push({ at: keyAt, branches: (spec as Condition[]).map((item, i) => collectConjunction(item, [...keyAt, i])) });
      else if (key === 'not') conj.nots.push({ at: keyAt, condition: spec as Condition });
      else if (key === 'detect') conj.detects.push(spec);
      else if (key === 'time') conj.detects.push({ time: spec });
      else conj.checks.push(makeCheck(key, spec, keyAt));
    }
  };
  if (when) visit(when, at);
  return conj;
}

/** True when a `when` matches every action (absent or `{}`). */
export function matchesEverything(when: Condition | undefined): boolean {
  return when === undefined || (typeof when === 'object' && when !== null && Object.keys(when).length === 0);
}

/** The operators of an operator object as atoms; `exists` and `flags` are not atoms of their own. */
export function atomsOfOperators(ops: OperatorObject, at: PathSegment[]): Atom[] {
  const atoms: Atom[] = [];
  for (const [op, operand] of Object.entries(ops)) {
    if (op === 'exists' || op === 'flags') continue;
    if (op === 'regex') atoms.push({ op, operand: { source: operand, flags: ops.flags ?? '' }, at: [...at, op] });
    else atoms.push({ op, operand, at: [...at, op] });
  }
  return atoms;
}

/** The atoms that must hold for a present value; empty for an `exists: false` check. */
export function atomsOf(check: PathCheck): Atom[] {
  if (check.absent) return [];
  if (!isOperatorObject(check.spec)) return [{ op: 'eq', operand: check.spec, at: check.at }];
  return atomsOfOperators(check.spec, check.at);
}

export function typeOfValue(value: unknown): number {
  if (value === null) return T.null;
  if (Array.isArray(value)) return T.array;
  switch (typeof value) {
    case 'string':
      return T.string;
    case 'number':
      return T.number;
    case 'boolean':
      return T.boolean;
    case 'object':
      return T.object;
    default:
      return 0;
  }
}

/** The types a present value can have for the atom to hold. */
export function typesOfAtom(atom: Atom): number {
  switch (atom.op) {
    case 'eq':
      return typeOfValue(atom.operand);
    case 'in':
      return (atom.operand as unknown[]).reduce<number>((acc, v) => acc | typeOfValue(v), 0);
    case 'glob':
    case 'regex':
    case 'startsWith':
    case 'endsWith':
      return T.string;
    case 'contains':
      return typeof atom.operand === 'string' ? T.string | T.array : T.array;
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte':
      return T.number;
    default:
      return ANY_TYPE;
  }
}

/** "a number", "a string or an array", … */
export function typeWords(types: number): string {
  const words: string[] = [];
  const names: Array<[number, string]> = [
    [T.string, 'a string'], [T.number, 'a number'], [T.boolean, 'a boolean'], [T.null, 'null'], [T.array, 'an array'], [T.object, 'an object'],
  ];
  for (const [bit, word] of names) if (types & bit) words.push(word);
  if (words.length === 0) return 'nothing';
  return words.length === 1 ? words[0] : `${words.slice(0, -1).join(', ')} or ${words[words.length - 1]}`;
}

export function shortJson(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}…` : text;
}

/** `gt 10`, `regex "^a" (flags i)`, `= "db.query"`. */
export function describeAtom(atom: Atom): string {
  if (atom.op === 'regex') {
    const { source, flags } = atom.operand as { source: string; flags: string };
    return `regex ${shortJson(source)}${flags ? ` (flags ${flags})` : ''}`;
  }
  if (atom.op === 'not') return `not ${shortJson(atom.operand)}`;
  return `${atom.op} ${shortJson(atom.operand)}`;
}

/** `input.amount gt 10` or `input.x exists: false`, for messages. */
export function describeCheck(check: PathCheck): string {
  if (check.absent) return `${check.pathText} exists: false`;
  return `${check.pathText} ${atomsOf(check).map(describeAtom).join(', ') || 'exists: true'}`;
}

export function isPrefix(prefix: readonly string[], path: readonly string[]): boolean {
  return prefix.length <= path.length && prefix.every((s, i) => s === path[i]);
}

export function isStrictPrefix(prefix: readonly string[], path: readonly string[]): boolean {
  return prefix.length < path.length && isPrefix(prefix, path);
}

export function sameAtom(a: Atom, b: Atom): boolean {
  return a.op === b.op && deepEqual(a.operand, b.operand);
}

const probes = new WeakMap<PathCheck, ((root: unknown) => boolean) | null>();

/**
 * Evaluates a check with the engine's own compiled predicate against an action holding `value` at the check's path,
 * so lint and evaluation cannot disagree about what an operator means. Undefined when that cannot be decided.
 */
export function holdsFor(check: PathCheck, value: unknown): boolean | undefined {
  let test = probes.get(check);
  if (test === undefined) {
    try {
      test = compileCondition({ [check.pathText]: check.spec } as Condition, []).test as (root: unknown) => boolean;
    } catch {
      test = null;
    }
    probes.set(check, test);
  }
  if (test === null) return undefined;
  try {
    const root: Record<string, unknown> = {};
    setPath(root, check.segments, value);
    return test(root);
  } catch {
    return undefined;
  }
}
