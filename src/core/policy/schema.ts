import type { ErrorObject, ValidateFunction } from 'ajv';
import { describeType } from '../action.js';
import { newAjv } from '../lazy-ajv.js';
import * as precompiled from './generated/policy-validators.js';
import { parsePath } from './path.js';
import { formatJsonPath, type PathSegment, type PolicyProblem } from './problem.js';
import { addPolicySchemas, loaderSchema, POLICY_AJV_OPTIONS, policySchema, policySchemaHash, TRANSFORM_KINDS } from './schema-source.js';
import { OPERATORS } from './types.js';

export { loaderSchema, policySchema } from './schema-source.js';

interface Validators {
  document: ValidateFunction;
  operators: ValidateFunction;
  transforms: Record<string, ValidateFunction>;
}

let validators: Validators | undefined;

/**
 * The validators precompiled from the shipped schema (scripts/build-validators.ts), or, when the schema changed since
 * they were built, ajv's compilation of the current one: the same code either way, so the same errors.
 */
function getValidators(): Validators {
  if (validators) return validators;
  const built = precompiled as unknown as Record<string, ValidateFunction> & { SCHEMA_HASH: string };
  let byName: Record<string, ValidateFunction>;
  if (built.SCHEMA_HASH === policySchemaHash()) byName = built;
  else {
    const ajv = newAjv(POLICY_AJV_OPTIONS);
    const refs = addPolicySchemas(ajv, loaderSchema(policySchema()));
    byName = Object.fromEntries(Object.entries(refs).map(([name, ref]) => [name, ajv.getSchema(ref)!]));
  }
  const transforms = Object.fromEntries(TRANSFORM_KINDS.map((kind) => [kind, byName[`validateTransform_${kind}`]!]));
  validators = { document: byName.validateDocument!, operators: byName.validateOperators!, transforms };
  return validators;
}

export interface SchemaProblem extends Omit<PolicyProblem, 'line' | 'column'> {
  segments: PathSegment[];
  target: 'key' | 'value';
}

/** Validates a parsed document against the policy schema; returns precise problems (empty when valid). */
export function checkPolicySchema(data: unknown): SchemaProblem[] {
  const v = getValidators();
  if (v.document(data)) return [];
  return explainErrors(v.document.errors ?? [], data);
}

/** Turns an ajv instancePath (`/rules/2/when`) into segments, with numbers for array indexes. */
export function toSegments(instancePath: string, data: unknown): PathSegment[] {
  if (instancePath === '') return [];
  const out: PathSegment[] = [];
  let node: unknown = data;
  for (const raw of instancePath.slice(1).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    const seg: PathSegment = Array.isArray(node) && /^\d+$/.test(key) ? Number(key) : key;
    out.push(seg);
    node = node !== null && typeof node === 'object' ? (node as Record<string, unknown>)[key] : undefined;
  }
  return out;
}

function valueAt(data: unknown, segments: readonly PathSegment[]): unknown {
  let node = data;
  for (const s of segments) node = node !== null && typeof node === 'object' ? (node as Record<string, unknown>)[s as string] : undefined;
  return node;
}

/** Where an anyOf/oneOf failed, the branch is chosen by the shape of the value and validated alone, for one precise error. */
function explainErrors(all: ErrorObject[], data: unknown, base: PathSegment[] = []): SchemaProblem[] {
  const problems: SchemaProblem[] = [];
  // Errors inside propertyNames are summarised by the propertyNames error itself.
  const errors = all.filter((e) => (e as ErrorObject & { propertyName?: string }).propertyName === undefined);
  const branchPaths = errors.filter((e) => e.keyword === 'anyOf' || e.keyword === 'oneOf').map((e) => e.instancePath);
  const underBranch = (p: string) => branchPaths.some((b) => p === b || p.startsWith(b + '/'));
  for (const path of new Set(branchPaths)) {
    if (branchPaths.some((b) => b !== path && path.startsWith(b + '/'))) continue;
    const segments = [...base, ...toSegments(path, data)];
    problems.push(...explainBranch(valueAt(data, toSegments(path, data)), segments, data, path));
  }
  for (const e of errors) {
    if (e.keyword === 'if' || e.keyword === 'anyOf' || e.keyword === 'oneOf') continue;
    if (underBranch(e.instancePath)) continue;
    problems.push(describe(e, [...base, ...toSegments(e.instancePath, data)]));
  }
  return dedupe(problems);
}

function explainBranch(value: unknown, segments: PathSegment[], root: unknown, instancePath: string): SchemaProblem[] {
  const v = getValidators();
  const parent = segments[segments.length - 2];
  const problem = (message: string, hint?: string): SchemaProblem => ({
    severity: 'error', code: 'schema', message, hint, path: formatJsonPath(segments), segments, target: 'value',
  });
  if (parent === 'transform' || (typeof segments[segments.length - 1] === 'number' && segments[segments.length - 2] === 'transform')) {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return [problem(`a transform step must be an object, got ${describeType(value)}`)];
    const kinds = Object.keys(value).filter((k) => k in v.transforms);
    if (kinds.length !== 1) {
      return [
        problem(
          kinds.length === 0 ? 'a transform step needs one of set, remove, keep, clamp, replace' : `a transform step does one thing; this one has ${kinds.join(' and ')}`,
          'Example: { set: input.readOnly, value: true }',
        ),
      ];
    }
    const validate = v.transforms[kinds[0]];
    if (validate(value)) return [];
    const errors = validate.errors ?? [];
    // clamp's own anyOf (min or max) sits at the step itself; explaining it as a branch would come back here forever.
    const atStep = (e: ErrorObject) => e.instancePath === '' && (e.keyword === 'anyOf' || (e.keyword === 'required' && ['min', 'max'].includes((e.params as { missingProperty: string }).missingProperty)));
    if (!errors.some((e) => e.instancePath === '' && e.keyword === 'anyOf')) return explainErrors(errors, value, segments);
    return [problem('clamp needs min, max or both', 'Example: { clamp: input.limit, max: 100 }'), ...explainErrors(errors.filter((e) => !atStep(e)), value, segments)];
  }
  if (segments[segments.length - 1] === 'glob') return [problem('glob must be a string or a non-empty list of strings')];
  // A condition value: a literal or an operator object.
  if (Array.isArray(value)) {
    return [problem('a list is not a value to compare with', 'Use { in: [a, b] } for "one of", or { eq: [a, b] } to compare a whole list.')];
  }
  if (value !== null && typeof value === 'object') {
    if (v.operators(value)) return [];
    return explainErrors(v.operators.errors ?? [], value, segments);
  }
  void root;
  void instancePath;
  return [problem(`must be a string, number, boolean, null or an operator object, got ${describeType(value)}`)];
}

function describe(e: ErrorObject, segments: PathSegment[]): SchemaProblem {
  const at = formatJsonPath(segments);
  const make = (message: string, hint?: string, target: 'key' | 'value' = 'value', where = segments): SchemaProblem => ({
    severity: 'error', code: 'schema', message, hint, path: formatJsonPath(where), segments: where, target,
  });
  const last = segments[segments.length - 1];
  const parentSchema = e.parentSchema as { properties?: Record<string, unknown> } | undefined;
  const allowed = parentSchema?.properties ? Object.keys(parentSchema.properties) : [];
  switch (e.keyword) {
    case 'required':
      return make(`missing required field "${(e.params as { missingProperty: string }).missingProperty}"${at ? '' : ' at the top level'}`);
    case 'additionalProperties': {
      const key = (e.params as { additionalProperty: string }).additionalProperty;
      const isOperators = allowed.includes('regex') && allowed.includes('gt');
      if (isOperators) {
        return make(`unknown operator "${key}"`, `Operators are ${OPERATORS.join(', ')}.${suggest(key, [...OPERATORS])}`, 'key', [...segments, key]);
      }
      return make(`unknown field "${key}"`, `Allowed here: ${allowed.join(', ')}.${suggest(key, allowed)}`, 'key', [...segments, key]);
    }
    case 'propertyNames': {
      const key = (e.params as { propertyName: string }).propertyName;
      const why = parsePath(key);
      return make(
        `unknown condition key "${key}"${typeof why === 'string' ? `: ${why}` : ''}`,
        `A key in "when" is all, any, not, or a dot path such as name, kind, input.sql, agent.id, context.env.${suggest(key, ['all', 'any', 'not', 'kind', 'name'])}`,
        'key',
        [...segments, key],
      );
    }
    case 'type': {
      const type = (e.params as { type: string | string[] }).type;
      return make(`must be ${(Array.isArray(type) ? type : String(type).split(',')).map(article).join(' or ')}, got ${describeType(e.data)}`);
    }
    case 'enum':
      return make(`must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.join(', ')}; got ${describeType(e.data)}`);
    case 'const':
      return make(`must be ${JSON.stringify((e.params as { allowedValue: unknown }).allowedValue)}, got ${describeType(e.data)}`);
    case 'pattern': {
      if (last === 'id' || last === 'name') {
        return make(`${JSON.stringify(e.data)} is not a valid ${last === 'id' ? 'rule id' : 'policy name'}`, 'Start with a letter or digit; then letters, digits, ".", "_", "-"' + (last === 'id' ? ' or ":".' : '.'));
      }
      if (last === 'flags') return make(`${JSON.stringify(e.data)} are not valid regex flags`, 'Use any of i, m, s, u, once each (g and y are not allowed: they make a regex stateful).');
      const why = typeof e.data === 'string' ? parsePath(e.data) : undefined;
      if (typeof why === 'string') return make(`not a valid path: ${why}`);
      return make(`${JSON.stringify(e.data)} is not a valid path here`, 'Transforms take a path without "*", starting with input, context, agent, kind or name.');
    }
    case 'minItems':
      return make('must not be empty');
    case 'maxItems':
      return make(`has more than ${(e.params as { limit: number }).limit} items`);
    case 'minProperties':
      return make('an operator object needs at least one operator', `For example { eq: 5 } or { regex: "^a" }. Operators are ${OPERATORS.join(', ')}.`);
    case 'maxLength':
      return make(`is longer than ${(e.params as { limit: number }).limit} characters`);
    case 'dependencies':
      return make(`"${(e.params as { property: string }).property}" needs "${(e.params as { missingProperty: string }).missingProperty}"`, `${(e.params as { property: string }).property} only applies to a regex in the same operator object.`);
    case 'not':
      return make('"transform" steps are only allowed on a rule with effect: transform', 'Change the effect to transform, or remove the steps.', 'key', [...segments, 'transform']);
    default:
      return make(e.message ?? `fails the schema check "${e.keyword}"`);
  }
}

function article(type: string): string {
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}

function dedupe(problems: SchemaProblem[]): SchemaProblem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const key = `${p.path}\u0000${p.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** ` Did you mean "x"?` for a close name, else ''. */
export function suggest(word: string, candidates: readonly string[]): string {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) {
      bestDistance = d;
      best = c;
    }
  }
  return best !== undefined && bestDistance <= Math.max(1, Math.floor(word.length / 3)) ? ` Did you mean "${best}"?` : '';
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length];
}
