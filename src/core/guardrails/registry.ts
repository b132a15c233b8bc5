import { Ajv, type ValidateFunction } from 'ajv';
import { injectionGuardrail } from './injection/index.js';
import { moderationGuardrail } from './moderation/index.js';
import { openAiModerationGuardrail } from './moderation/openai-adapter.js';
import { piiGuardrail } from './pii/index.js';
import { secretsGuardrail } from './secrets/index.js';
import type { GuardrailFactory } from './types.js';

/**
 * The built-in guardrails by name. Each module is cheap to import: models, word lists and phone metadata load on a
 * guardrail's first use. `openai-moderation` sends text to OpenAI, so it is used only when a policy names it.
 */
export const BUILTIN_GUARDRAILS: ReadonlyMap<string, GuardrailFactory<any>> = new Map(
  [piiGuardrail, secretsGuardrail, injectionGuardrail, moderationGuardrail, openAiModerationGuardrail].map((f) => [f.name, f]),
);

const ajv = new Ajv({ allErrors: true, strict: false, useDefaults: false });
const validators = new WeakMap<object, ValidateFunction>();

/** Problems with a guardrail's config, as readable sentences; empty when it is valid. */
export function guardrailConfigProblems(factory: GuardrailFactory<any>, config: unknown): string[] {
  let validate = validators.get(factory.configSchema);
  if (!validate) {
    validate = ajv.compile(factory.configSchema);
    validators.set(factory.configSchema, validate);
  }
  if (validate(config)) return [];
  return (validate.errors ?? []).map((e) => {
    const where = e.instancePath ? `config${e.instancePath.replace(/\//g, '.')}` : 'config';
    if (e.keyword === 'additionalProperties') return `${where} has an unknown option "${(e.params as { additionalProperty: string }).additionalProperty}"`;
    if (e.keyword === 'enum') return `${where} ${e.message}: ${(e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')}`;
    return `${where} ${e.message}`;
  });
}
