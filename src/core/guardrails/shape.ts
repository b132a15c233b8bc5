import type { Guardrail, GuardrailFactory } from './types.js';

/** True when `value` has the shape of a guardrail factory (for plugin modules). */
export function isGuardrailFactory(value: unknown): value is GuardrailFactory<any> {
  const v = value as GuardrailFactory | null;
  return (
    v !== null && typeof v === 'object' && typeof v.name === 'string' && typeof v.create === 'function' &&
    v.configSchema !== null && typeof v.configSchema === 'object'
  );
}

/** True when `value` has the shape of a guardrail instance. */
export function isGuardrail(value: unknown): value is Guardrail {
  const v = value as Guardrail | null;
  return v !== null && typeof v === 'object' && typeof v.name === 'string' && typeof v.detect === 'function' && Array.isArray(v.types);
}
