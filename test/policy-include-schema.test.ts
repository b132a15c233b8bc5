import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { schemaWithPackParams } from '../scripts/build-pack-params.js';
import { checkPolicySchema, loaderSchema } from '../src/core/policy/schema.js';
import { ROOT } from './helpers/cli.js';

const SCHEMA = join(ROOT, 'schemas/policy.schema.json');

describe('the policy JSON Schema covers include and params (editor support)', () => {
  it.each(readdirSync(join(ROOT, 'policies'), { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name))(
    'an editor finds the %s pack file valid as written, { $param } references included',
    (pack) => {
      const validate = new Ajv({ allErrors: true, strict: false }).compile(JSON.parse(readFileSync(SCHEMA, 'utf8')) as object);
      const valid = validate(parseYaml(readFileSync(join(ROOT, 'policies', pack, 'policy.yaml'), 'utf8')));
      expect(validate.errors ?? []).toEqual([]);
      expect(valid).toBe(true);
    },
  );

  it('the loader checks documents without the editor-only parts: a reference left after substitution is an error', () => {
    const loader = JSON.stringify(loaderSchema(JSON.parse(readFileSync(SCHEMA, 'utf8')) as Record<string, unknown>));
    expect(loader).not.toContain('paramRef');
    expect(loader).not.toContain('agentguard:readonly-db(?:');
    const problems = checkPolicySchema({ version: 1, name: 'p', rules: [{ id: 'r', effect: 'allow', when: { 'input.n': { gt: { $param: 'limit' } } } }] });
    expect(problems.map((p) => `${p.path}: ${p.message}`)).toEqual(['rules[0].when.input.n.gt: must be a number, got an object']);
  });

  it('holds every built-in pack\'s parameters as they are declared (else run `npx tsx scripts/build-pack-params.ts`)', () => {
    const text = readFileSync(SCHEMA, 'utf8');
    expect(schemaWithPackParams(text)).toBe(text);
  });

  it('lets an editor check an include\'s params against the pack it names, and leaves other includes free', () => {
    const validate = new Ajv({ allErrors: true, strict: false }).compile(JSON.parse(readFileSync(SCHEMA, 'utf8')) as object);
    const policy = (include: unknown[]) => ({ version: 1, name: 'p', include, rules: [] });
    expect(validate(policy(['agentguard:shell-safety@1', { pack: 'agentguard:readonly-db@1', params: { tables: ['orders'] } }, { pack: './team.yaml', params: { anything: 1 } }]))).toBe(true);
    expect(validate(policy([{ pack: 'agentguard:readonly-db@1', params: { tabels: ['orders'] } }]))).toBe(false);
    expect(validate.errors?.map((e) => `${e.instancePath} ${e.keyword}`)).toContain('/include/0/params additionalProperties');
    expect(validate(policy([{ pack: 'agentguard:payment-limits', params: { hardCap: 'lots' } }]))).toBe(false);
    expect(validate.errors?.map((e) => e.instancePath)).toContain('/include/0/params/hardCap');
    const declared = (parseYaml(readFileSync(join(ROOT, 'policies/readonly-db/policy.yaml'), 'utf8')) as { params: { tables: { default: unknown } } }).params;
    expect(validate(policy([{ pack: 'agentguard:readonly-db', params: { tables: declared.tables.default } }]))).toBe(true);
  });
});
