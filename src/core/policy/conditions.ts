import type { Action } from '../action.js';
import { compileDetect, parseTextPaths } from './detect.js';
import type { EvalContext } from './eval-context.js';
import type { GuardrailSet } from './guardrail-set.js';
import { compileGlob, isLiteralGlob } from './glob.js';
import { getAll, getPath, MISSING, parsePath } from './path.js';
import { checkRegexInput, DEFAULT_REGEX_MAX_LENGTH } from './regex-limits.js';
import type { PathSegment } from './problem.js';
import { MAX_CONDITION_DEPTH, type Condition, type DetectSpec, type Literal, type OperatorObject } from './types.js';
import { compileViewOperator } from './views/compile-view.js';
import { compileTimeCondition, TimeSpecError, type TimeSpec } from './time-window.js';

/** A compiled condition: a predicate plus what `--explain` needs to show it. */
export interface CondNode {
  label: string;
  /** `ctx` carries the decision's guardrail results; only `detect` reads it. */
  test: CondTest;
  children?: CondNode[];
  /**
   * A leaf's paths into the action (segments, `*` for any element), for `policy replay`'s honesty about masked values:
   * a leaf reading a masked value cannot be decided. `presenceOnly` when it tests only whether the path exists.
   */
  reads?: { paths: ReadonlyArray<readonly string[]>; presenceOnly?: boolean };
}

export type CondTest = (action: Action, ctx?: EvalContext) => boolean;

/** A semantic error found while compiling, with the JSON path of the offending value. */
export class CompileProblem extends Error {
  constructor(
    message: string,
    readonly segments: PathSegment[],
    readonly hint?: string,
  ) {
    super(message);
  }
}

type ValueTest = (value: unknown) => boolean;

// The combinators below are plain loops rather than `tests.every((t) => t(x))`, which builds a closure on every call;
// they run once per rule per decision. Both test in order and stop at the first answer, exactly like every/some.

/** True when every test holds. */
function allOf<T>(tests: Array<(x: T) => boolean>): (x: T) => boolean {
  return (x) => {
    for (let i = 0; i < tests.length; i++) if (!tests[i](x)) return false;
    return true;
  };
}

/** True when at least one test holds. */
function anyOf<T>(tests: Array<(x: T) => boolean>): (x: T) => boolean {
  return (x) => {
    for (let i = 0; i < tests.length; i++) if (tests[i](x)) return true;
    return false;
  };
}

function allConds(tests: CondTest[]): CondTest {
  return (action, ctx) => {
    for (let i = 0; i < tests.length; i++) if (!tests[i](action, ctx)) return false;
    return true;
  };
}

function anyCond(tests: CondTest[]): CondTest {
  return (action, ctx) => {
    for (let i = 0; i < tests.length; i++) if (tests[i](action, ctx)) return true;
    return false;
  };
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((x, i) => deepEqual(x, bb[i]));
  }
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  return ka.length === kb.length && ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

/** Compiles a regex, rejecting flags that make it stateful. */
export function compileRegex(source: string, flags: string | undefined, segments: PathSegment[]): RegExp {
  if (flags && /[^imsu]/.test(flags)) throw new CompileProblem(`regex flags "${flags}" are not allowed`, segments, 'Use i, m, s or u; g and y make a regex stateful.');
  try {
    return new RegExp(source, flags ?? '');
  } catch (error) {
    throw new CompileProblem(`the regex does not compile: ${(error as Error).message.replace(/^Invalid regular expression: /, '')}`, segments, 'Check escaping: in YAML, use single quotes or double the backslashes inside double quotes.');
  }
}

function isNumber(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

function compileOperators(ops: OperatorObject, at: PathSegment[]): { test: ValueTest; label: string; needsPresence: boolean } {
  const tests: ValueTest[] = [];
  const labels: string[] = [];
  let needsPresence = true;
  for (const [op, operand] of Object.entries(ops)) {
    const here = [...at, op];
    switch (op) {
      case 'eq':
        tests.push((v) => deepEqual(v, operand));
        break;
      case 'ne':
        tests.push((v) => !deepEqual(v, operand));
        break;
      case 'in': {
        const set = new Set(operand as Literal[]);
        tests.push((v) => set.has(v as Literal));
        break;
      }
      case 'glob': {
        const globs = Array.isArray(operand) ? (operand as string[]) : [operand as string];
        const literals = new Set(globs.filter(isLiteralGlob));
        const patterns = globs.filter((g) => !isLiteralGlob(g)).map((g, i) => {
          try {
            return compileGlob(g);
          } catch (error) {
            throw new CompileProblem(`invalid glob ${JSON.stringify(g)}: ${(error as Error).message}`, Array.isArray(operand) ? [...here, i] : here);
          }
        });
        const matchesPattern = anyOf(patterns.map((re) => (text: string) => re.test(text)));
        tests.push((v) => typeof v === 'string' && (literals.has(v) || matchesPattern(v)));
        break;
      }
      case 'regex': {
        const re = compileRegex(operand as string, ops.flags, here);
        const maxLength = ops.maxLength ?? DEFAULT_REGEX_MAX_LENGTH;
        const what = `regex ${JSON.stringify(operand)}`;
        tests.push((v) => {
          if (typeof v !== 'string') return false;
          checkRegexInput(v, maxLength, what);
          return re.test(v);
        });
        break;
      }
      case 'flags':
      case 'unsafeRegex':
      case 'maxLength':
        continue;
      case 'contains':
        tests.push((v) =>
          typeof v === 'string' ? typeof operand === 'string' && v.includes(operand) : Array.isArray(v) ? v.some((x) => deepEqual(x, operand)) : false,
        );
        break;
      case 'startsWith':
        tests.push((v) => typeof v === 'string' && v.startsWith(operand as string));
        break;
      case 'endsWith':
        tests.push((v) => typeof v === 'string' && v.endsWith(operand as string));
        break;
      case 'gt':
        tests.push((v) => isNumber(v) && v > (operand as number));
        break;
      case 'gte':
        tests.push((v) => isNumber(v) && v >= (operand as number));
        break;
      case 'lt':
        tests.push((v) => isNumber(v) && v < (operand as number));
        break;
      case 'lte':
        tests.push((v) => isNumber(v) && v <= (operand as number));
        break;
      case 'exists':
        needsPresence = false;
        break;
      case 'not': {
        const inner = compileOperators(operand as OperatorObject, here);
        tests.push((v) => !inner.test(v));
        break;
      }
      case 'keys': {
        // Names an object gives its fields (e-mail header names, for one) carry data too.
        const inner = compileOperators(operand as OperatorObject, here).test;
        tests.push((v) => v !== null && typeof v === 'object' && !Array.isArray(v) && inner(Object.keys(v)));
        break;
      }
      case 'some':
      case 'every':
      case 'none': {
        // On a list: some / every / no item satisfies the operators (every and none hold for an empty list).
        const item = compileOperators(operand as OperatorObject, here).test;
        if (op === 'some') tests.push((v) => Array.isArray(v) && v.some(item));
        else if (op === 'every') tests.push((v) => Array.isArray(v) && v.every(item));
        else tests.push((v) => Array.isArray(v) && !v.some(item));
        break;
      }
      case 'shell':
      case 'sql':
        tests.push(compileViewOperator(op, operand, here, compileOperators, (m, s, h) => new CompileProblem(m, s, h)));
        break;
      default:
        throw new CompileProblem(`unknown operator "${op}"`, here);
    }
    labels.push(`${op} ${JSON.stringify(operand)}`);
  }
  const test: ValueTest = tests.length === 1 ? tests[0] : allOf(tests);
  return { test, label: labels.join(', '), needsPresence };
}

function compilePathCondition(pathText: string, spec: unknown, at: PathSegment[]): CondNode {
  const parsed = parsePath(pathText);
  if (typeof parsed === 'string') throw new CompileProblem(`unknown condition key "${pathText}": ${parsed}`, at);
  const { segments, hasWildcard } = parsed;
  let valueTest: ValueTest;
  let label: string;
  let exists: boolean | undefined;
  if (spec !== null && typeof spec === 'object' && !Array.isArray(spec)) {
    const ops = compileOperators(spec as OperatorObject, at);
    valueTest = ops.test;
    label = ops.label;
    if ('exists' in spec) exists = (spec as OperatorObject).exists;
  } else if (Array.isArray(spec)) {
    throw new CompileProblem('a list is not a value to compare with', at, 'Use { in: [a, b] } for "one of", or { eq: [a, b] } to compare a whole list.');
  } else {
    valueTest = (v) => v === spec;
    label = `= ${JSON.stringify(spec)}`;
  }
  const fullLabel = `${pathText} ${label}`;
  const reads = { paths: [segments], presenceOnly: exists !== undefined && Object.keys(spec as object).length === 1 };
  if (hasWildcard) {
    return {
      label: fullLabel,
      reads,
      test: (action) => {
        const values = getAll(action, segments);
        if (values.length === 0) return exists === false;
        if (exists === false) return false;
        return values.some(valueTest);
      },
    };
  }
  if (segments.length === 1) {
    const key = segments[0];
    return {
      label: fullLabel,
      reads,
      test: (action) => {
        const v = Object.prototype.hasOwnProperty.call(action, key) ? (action as unknown as Record<string, unknown>)[key] : MISSING;
        if (v === MISSING || v === undefined) return exists === false;
        if (exists === false) return false;
        return valueTest(v);
      },
    };
  }
  return {
    label: fullLabel,
    reads,
    test: (action) => {
      const v = getPath(action, segments);
      if (v === MISSING || v === undefined) return exists === false;
      if (exists === false) return false;
      return valueTest(v);
    },
  };
}

/** Compiles a `when` object into a predicate tree. Keys are ANDed. */
export function compileCondition(when: Condition, at: PathSegment[], depth = 1, guardrails?: GuardrailSet): CondNode {
  if (depth > MAX_CONDITION_DEPTH) {
    throw new CompileProblem(`conditions are nested more than ${MAX_CONDITION_DEPTH} levels deep`, at, 'Flatten them: several keys in one when are already ANDed.');
  }
  if (when === null || typeof when !== 'object' || Array.isArray(when)) throw new CompileProblem('a condition must be an object', at);
  const children: CondNode[] = [];
  for (const [key, spec] of Object.entries(when)) {
    const here = [...at, key];
    if (key === 'all' || key === 'any') {
      const list = spec as Condition[];
      const nodes = list.map((c, i) => compileCondition(c, [...here, i], depth + 1, guardrails));
      const tests = nodes.map((n) => n.test);
      children.push({
        label: key,
        children: nodes,
        test: key === 'all' ? allConds(tests) : anyCond(tests),
      });
    } else if (key === 'not') {
      const inner = compileCondition(spec as Condition, here, depth + 1, guardrails);
      children.push({ label: 'not', children: [inner], test: (a, c) => !inner.test(a, c) });
    } else if (key === 'detect') {
      children.push({ ...compileDetect(spec as DetectSpec, here, guardrails), reads: { paths: parseTextPaths((spec as DetectSpec).in, here) } });
    } else if (key === 'time') {
      try {
        children.push({ ...compileTimeCondition(spec as TimeSpec, here), reads: { paths: [] } });
      } catch (error) {
        if (error instanceof TimeSpecError) throw new CompileProblem(error.message, error.segments, error.hint);
        throw error;
      }
    } else {
      children.push(compilePathCondition(key, spec, here));
    }
  }
  if (children.length === 1) return children[0];
  const tests = children.map((c) => c.test);
  return { label: 'all of', children, test: allConds(tests) };
}

/** Strings a top-level `kind` or `name` condition restricts to, when that can be known at compile time; undefined if any value may match. */
export function indexValues(when: Condition | undefined, key: 'kind' | 'name'): Set<string> | undefined {
  const spec = when?.[key];
  if (spec === undefined) return undefined;
  if (typeof spec === 'string') return new Set([spec]);
  if (spec === null || typeof spec !== 'object' || Array.isArray(spec)) return undefined;
  const ops = spec as OperatorObject;
  let values: Set<string> | undefined;
  const narrow = (next: string[]) => {
    values = values ? new Set(next.filter((v) => values!.has(v))) : new Set(next);
  };
  if (typeof ops.eq === 'string') narrow([ops.eq]);
  if (Array.isArray(ops.in)) narrow(ops.in.filter((v): v is string => typeof v === 'string'));
  if (ops.glob !== undefined) {
    const globs = Array.isArray(ops.glob) ? ops.glob : [ops.glob];
    if (globs.every(isLiteralGlob)) narrow(globs);
  }
  return values;
}

/**
 * The leading `kind` and `name` keys of a `when` (those before any other key), compiled on their own, or undefined when
 * it starts with another key. They read nothing but the action's kind and name, so `candidateRules` runs them once per
 * kind and name and drops the rules they reject, which keeps globs and regexes over tool names off the per-decision path.
 * Dropping such a rule changes no decision: a `when` is tested key by key and stops at the first false key, so its later
 * keys (the only ones that could throw) are never reached. Keys with `exists` are left out, since kind and name are
 * never missing from a valid action.
 *
 * @example compileKindNameGate({ name: { glob: 'kb.*' }, 'input.q': { exists: true } }, at) // tests only name
 */
export function compileKindNameGate(when: Condition | undefined, at: PathSegment[]): CondNode | undefined {
  if (!when) return undefined;
  const leading: Condition = {};
  for (const [key, spec] of Object.entries(when)) {
    if (key !== 'kind' && key !== 'name') break;
    if (spec !== null && typeof spec === 'object' && 'exists' in spec) break;
    leading[key] = spec;
  }
  return Object.keys(leading).length > 0 ? compileCondition(leading, at) : undefined;
}
