import type { ErrorObject } from 'ajv';
import { validateDecision, validatePreview } from './generated/decision-validators.js';

interface Compiled {
  (data: unknown): boolean;
  errors?: ErrorObject[] | null;
}

/**
 * Checks a Decision received from elsewhere (a sidecar's answer) against the Decision schema, with the validator
 * precompiled from it (no schema compiler is loaded). Fields the schema does not know are removed from the value;
 * returns what is wrong, or undefined when it is a Decision.
 */
export function decisionProblem(value: unknown): string | undefined {
  return problemOf(validateDecision as Compiled, value);
}

/** The same for the answer of POST /v1/preview (`{ decision, holdBack }`). */
export function previewProblem(value: unknown): string | undefined {
  return problemOf(validatePreview as Compiled, value);
}

function problemOf(validate: Compiled, value: unknown): string | undefined {
  if (validate(value)) return undefined;
  const error = validate.errors?.[0];
  if (!error) return 'it does not match the schema';
  const path = error.instancePath.split('/').slice(1).map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (error.keyword === 'required') return `"${[...path, String(error.params.missingProperty)].join('.')}" is missing`;
  const where = path.length === 0 ? 'the body' : `"${path.join('.')}"`;
  if (error.keyword === 'enum') return `${where} must be one of ${(error.params.allowedValues as unknown[]).map(String).join(', ')}`;
  return `${where} ${error.message ?? 'is invalid'}`;
}
