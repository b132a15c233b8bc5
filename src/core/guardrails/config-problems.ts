import type { ValidateFunction } from 'ajv';
import { newAjv } from '../lazy-ajv.js';
import { CONFIG_VALIDATORS } from './generated/config-validators.js';
import { BUILTIN_GUARDRAILS, GUARDRAIL_CONFIG_AJV_OPTIONS } from './registry.js';
import type { GuardrailFactory } from './types.js';

const validators = new WeakMap<object, ValidateFunction>();
const precompiled = CONFIG_VALIDATORS as unknown as Record<string, { schema: string; validate: ValidateFunction } | undefined>;

/**
 * The validator of a guardrail's config: the precompiled one for a built-in whose configSchema is still the one it was
 * built from (scripts/build-validators.ts), else compiled by ajv (plugins, or a schema changed since).
 */
function validatorOf(factory: GuardrailFactory<any>): ValidateFunction {
  let validate = validators.get(factory.configSchema);
  if (validate) return validate;
  const built = BUILTIN_GUARDRAILS.get(factory.name) === factory ? precompiled[factory.name] : undefined;
  validate = built !== undefined && built.schema === JSON.stringify(factory.configSchema) ? built.validate : newAjv(GUARDRAIL_CONFIG_AJV_OPTIONS).compile(factory.configSchema);
  validators.set(factory.configSchema, validate);
  return validate;
}

/** Problems with a guardrail's config, as readable sentences; empty when it is valid. */
export function guardrailConfigProblems(factory: GuardrailFactory<any>, config: unknown): string[] {
  const validate = validatorOf(factory);
  if (validate(config)) return [];
  return (validate.errors ?? []).map((e) => {
    const where = e.instancePath ? `config${e.instancePath.replace(/\//g, '.')}` : 'config';
    if (e.keyword === 'additionalProperties') return `${where} has an unknown option "${(e.params as { additionalProperty: string }).additionalProperty}"`;
    if (e.keyword === 'enum') return `${where} ${e.message}: ${(e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')}`;
    return `${where} ${e.message}`;
  });
}
