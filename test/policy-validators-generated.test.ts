import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv, type ErrorObject } from 'ajv';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { validatorFiles } from '../scripts/build-validators.js';
import { CONFIG_VALIDATORS } from '../src/core/guardrails/generated/config-validators.js';
import { BUILTIN_GUARDRAILS, GUARDRAIL_CONFIG_AJV_OPTIONS } from '../src/core/guardrails/registry.js';
import * as precompiled from '../src/core/policy/generated/policy-validators.js';
import { addPolicySchemas, loaderSchema, POLICY_AJV_OPTIONS, policySchema, policySchemaHash } from '../src/core/policy/schema-source.js';
import { ROOT } from './helpers/cli.js';

type Validate = ((data: unknown) => boolean) & { errors?: ErrorObject[] | null };

/** What a check said: valid or not, and every error as data (the schema parts compared by value). */
function outcome(validate: Validate, data: unknown): unknown {
  const valid = validate(structuredClone(data));
  return { valid, errors: JSON.parse(JSON.stringify(validate.errors ?? [])) as unknown };
}

const runtime = (() => {
  const ajv = new Ajv(POLICY_AJV_OPTIONS);
  const refs = addPolicySchemas(ajv, loaderSchema(policySchema()));
  return Object.fromEntries(Object.entries(refs).map(([name, ref]) => [name, ajv.getSchema(ref) as Validate]));
})();
const built = precompiled as unknown as Record<string, Validate>;

const condition = fc.oneof(
  fc.constantFrom('x', 5, true, null, [], ['a'], { regex: '(' }, { gt: 'a' }, { in: [] }, { glob: [] }, { eq: 1, regex: 'a', flags: 'gg' }, { shell: { dynamic: 'yes' } }),
  fc.jsonValue({ maxDepth: 3 }),
);
const rule = fc.record(
  {
    id: fc.oneof(fc.constantFrom('ok', 'bad id', '', 'a:b'), fc.string()),
    effect: fc.oneof(fc.constantFrom('allow', 'deny', 'transform', 'require_approval', 'maybe'), fc.jsonValue({ maxDepth: 1 })),
    when: fc.oneof(fc.dictionary(fc.constantFrom('kind', 'name', 'input.sql', 'all', 'any', 'not', 'bad key!', 'context.x'), condition, { maxKeys: 3 }), fc.jsonValue({ maxDepth: 2 })),
    transform: fc.array(fc.oneof(fc.constantFrom({ set: 'input.x', value: 1 }, { clamp: 'input.n' }, { remove: 5 }, { keep: [] }, { replace: 'input.s', pattern: 'a' }, { set: 'x', remove: 'y' }), fc.jsonValue({ maxDepth: 2 })), { maxLength: 2 }),
    message: fc.oneof(fc.string(), fc.integer()),
    extra: fc.jsonValue({ maxDepth: 1 }),
  },
  { requiredKeys: ['id', 'effect'] },
);
const documents = fc.oneof(
  fc.record({ version: fc.constantFrom(1, 2, '1'), name: fc.oneof(fc.constantFrom('p', 'bad name'), fc.string()), default: fc.constantFrom('allow', 'deny', 'maybe'), rules: fc.array(rule, { maxLength: 3 }) }, { requiredKeys: ['rules'] }),
  fc.jsonValue({ maxDepth: 3 }),
);

describe('precompiled policy validators', () => {
  it('are up to date with the schemas they come from (else run `npm run schemas:validators`)', () => {
    for (const { path, text } of validatorFiles()) expect(readFileSync(join(ROOT, path), 'utf8'), path).toBe(text);
    expect((precompiled as unknown as { SCHEMA_HASH: string }).SCHEMA_HASH).toBe(policySchemaHash());
  });

  it('give the same answer and the same errors as ajv compiling the schema at run time, for any document', () => {
    fc.assert(
      fc.property(documents, (doc) => {
        expect(outcome(built.validateDocument!, doc)).toEqual(outcome(runtime.validateDocument!, doc));
      }),
      { numRuns: 300 },
    );
  });

  it('give the same errors for operator objects and each kind of transform step', () => {
    const operators = [{ regex: '(', flags: 'x' }, { gt: 'a', lt: [] }, {}, { nope: 1 }, { in: 'x' }, { shell: { commands: 5 } }];
    for (const value of operators) expect(outcome(built.validateOperators!, value)).toEqual(outcome(runtime.validateOperators!, value));
    fc.assert(
      fc.property(fc.constantFrom('set', 'remove', 'keep', 'clamp', 'replace'), fc.dictionary(fc.constantFrom('set', 'remove', 'keep', 'clamp', 'replace', 'value', 'min', 'max', 'pattern', 'with', 'x'), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 }), (kind, step) => {
        const name = `validateTransform_${kind}`;
        expect(outcome(built[name]!, step)).toEqual(outcome(runtime[name]!, step));
      }),
      { numRuns: 200 },
    );
  });
});

describe('precompiled guardrail config validators', () => {
  it('exist for every built-in guardrail, built from its current configSchema', () => {
    const byName = CONFIG_VALIDATORS as unknown as Record<string, { schema: string }>;
    expect(Object.keys(byName).sort()).toEqual([...BUILTIN_GUARDRAILS.keys()].sort());
    for (const [name, factory] of BUILTIN_GUARDRAILS) expect(byName[name]!.schema, name).toBe(JSON.stringify(factory.configSchema));
  });

  it('give the same errors as ajv compiling each configSchema at run time', () => {
    const byName = CONFIG_VALIDATORS as unknown as Record<string, { validate: Validate }>;
    for (const [name, factory] of BUILTIN_GUARDRAILS) {
      const compiled = new Ajv(GUARDRAIL_CONFIG_AJV_OPTIONS).compile(factory.configSchema) as Validate;
      const keys = Object.keys((factory.configSchema as { properties?: object }).properties ?? {});
      fc.assert(
        fc.property(fc.oneof(fc.dictionary(fc.constantFrom(...keys, 'unknownOption'), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }), fc.jsonValue({ maxDepth: 2 })), (config) => {
          expect(outcome(byName[name]!.validate, config), name).toEqual(outcome(compiled, config));
        }),
        { numRuns: 100 },
      );
    }
  });
});
