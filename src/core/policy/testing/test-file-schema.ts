import { readFileSync } from 'node:fs';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { describeType } from '../../action.js';
import type { PathSegment } from '../problem.js';
import { suggest, toSegments } from '../schema.js';

const SCHEMA_URL = new URL('../../../../schemas/policy-test.schema.json', import.meta.url);

let cachedSchema: Record<string, unknown> | undefined;
let validator: ValidateFunction | undefined;

/** The JSON Schema of policy test files that ships in the package. */
export function policyTestSchema(): Record<string, unknown> {
  cachedSchema ??= JSON.parse(readFileSync(SCHEMA_URL, 'utf8')) as Record<string, unknown>;
  return cachedSchema;
}

/** A schema violation at a path inside the test document. */
export interface TestSchemaProblem {
  segments: PathSegment[];
  /** Point at the key (unknown fields) or at the value. */
  target: 'key' | 'value';
  message: string;
  hint?: string;
}

/** Validates a parsed test document; returns one problem per violation (empty when valid). */
export function checkPolicyTestSchema(data: unknown): TestSchemaProblem[] {
  validator ??= new Ajv({ allErrors: true, strict: true, verbose: true }).compile(policyTestSchema());
  if (validator(data)) return [];
  return explain(validator.errors ?? [], data);
}

function explain(errors: ErrorObject[], data: unknown): TestSchemaProblem[] {
  // An anyOf failure is reported once, in its own words, instead of once per branch.
  const anyOfPaths = errors.filter((e) => e.keyword === 'anyOf').map((e) => e.instancePath);
  const problems: TestSchemaProblem[] = [];
  const seen = new Set<string>();
  for (const e of errors) {
    if (e.keyword !== 'anyOf' && anyOfPaths.some((p) => e.instancePath === p || e.instancePath.startsWith(`${p}/`))) continue;
    const problem = describe(e, toSegments(e.instancePath, data));
    const key = `${problem.segments.join('\u0000')}\u0001${problem.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    problems.push(problem);
  }
  return problems;
}

const EXAMPLES: Record<string, string> = {
  policy: 'policy: ../support-bot.yaml   # relative to the test file',
  cases: 'cases:\n  - name: blocks DROP TABLE\n    action: { kind: tool, name: db.query, input: { sql: "DROP TABLE users" } }\n    expect: { effect: deny }',
  name: 'name: blocks DROP TABLE',
  action: 'action: { kind: tool, name: db.query, input: { sql: "SELECT 1" } }',
  expect: 'expect: { effect: deny, rule: no-destructive-sql }',
  kind: 'kind: tool',
};

function describe(e: ErrorObject, segments: PathSegment[]): TestSchemaProblem {
  const last = segments[segments.length - 1];
  const allowed = Object.keys((e.parentSchema as { properties?: Record<string, unknown> } | undefined)?.properties ?? {});
  const problem = (message: string, hint?: string, target: 'key' | 'value' = 'value', at = segments): TestSchemaProblem => ({ segments: at, target, message, hint });
  switch (e.keyword) {
    case 'required': {
      const field = (e.params as { missingProperty: string }).missingProperty;
      return problem(`missing required field "${field}"`, EXAMPLES[field] ? `Add it, for example: ${EXAMPLES[field]}` : undefined);
    }
    case 'additionalProperties': {
      const key = (e.params as { additionalProperty: string }).additionalProperty;
      return problem(`unknown field "${key}"`, `Allowed here: ${allowed.join(', ')}.${suggest(key, allowed)}`, 'key', [...segments, key]);
    }
    case 'type':
      return problem(`must be ${article((e.params as { type: string }).type)}, got ${describeType(e.data)}`);
    case 'enum':
      return problem(`must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.join(', ')}; got ${describeType(e.data)}${typeof e.data === 'string' ? suggest(e.data, (e.params as { allowedValues: string[] }).allowedValues) : ''}`);
    case 'anyOf':
      return last === 'rule'
        ? problem(`must be a rule id or a non-empty list of rule ids, got ${describeType(e.data)}`, 'For example rule: no-destructive-sql, or rule: [kb-read, audit-reads].')
        : problem(`does not match any allowed form (got ${describeType(e.data)})`);
    case 'minItems':
      return problem('must not be empty', last === 'cases' ? `Add at least one case, for example:\n${EXAMPLES.cases}` : undefined);
    case 'maxItems':
      return problem(`has more than ${(e.params as { limit: number }).limit} items`);
    case 'minLength':
      return problem('must not be empty');
    case 'maxLength':
      return problem(`is longer than ${(e.params as { limit: number }).limit} characters`);
    case 'minProperties':
      return problem('needs at least one of effect, rule, action', 'For example expect: { effect: deny, rule: no-destructive-sql }.');
    default:
      return problem(e.message ?? `fails the schema check "${e.keyword}"`);
  }
}

function article(type: string): string {
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}
