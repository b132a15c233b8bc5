import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

/** The policy JSON Schema's `$id`. */
export const POLICY_SCHEMA_ID = 'https://agentguard.dev/schemas/policy.schema.json';

const SCHEMA_URL = new URL('../../../schemas/policy.schema.json', import.meta.url);

/** The transform step kinds, in the order of the schema's `definitions.transform.oneOf`. */
export const TRANSFORM_KINDS = ['set', 'remove', 'keep', 'clamp', 'replace'] as const;

/** `$id` of the schema one transform step kind is checked with alone (to explain a failed step precisely). */
export const transformSchemaId = (kind: string): string => `https://agentguard.dev/schemas/policy-transform-${kind}.json`;

let cachedText: string | undefined;
let cachedSchema: Record<string, unknown> | undefined;

/** The text of the policy JSON Schema that ships in the package. */
export function policySchemaText(): string {
  cachedText ??= readFileSync(SCHEMA_URL, 'utf8');
  return cachedText;
}

/** The policy JSON Schema that ships in the package (also printed by `agentguard policy schema`). */
export function policySchema(): Record<string, unknown> {
  cachedSchema ??= JSON.parse(policySchemaText()) as Record<string, unknown>;
  return cachedSchema;
}

/** `sha256:…` of the schema's text: the precompiled validators are used only with the schema they were built from. */
export function policySchemaHash(text = policySchemaText()): string {
  return `sha256:${createHash('sha256').update(text).digest('hex')}`;
}

const PARAM_REF = '#/definitions/paramRef';

/**
 * The schema the loader checks documents with: the shipped one without what is there for editors. The built-in
 * packs' parameters under `include` items go (the loader checks an include's params against the pack it actually
 * loads, which may be a newer release), and so does every `{ $param }` alternative (parameters are substituted
 * before a document is checked, so a reference left over is an error).
 */
export function loaderSchema(schema: Record<string, unknown>): Record<string, unknown> {
  const copy = structuredClone(schema) as Record<string, unknown> & { properties?: { include?: { items?: Record<string, unknown> } }; definitions?: Record<string, unknown> };
  delete copy.properties?.include?.items?.allOf;
  delete copy.definitions?.paramRef;
  const stack: unknown[] = [copy];
  while (stack.length > 0) {
    const node = stack.pop();
    if (node === null || typeof node !== 'object') continue;
    if (!Array.isArray(node)) {
      const record = node as Record<string, unknown>;
      const anyOf = record.anyOf;
      if (Array.isArray(anyOf) && anyOf.some((a) => (a as { $ref?: string })?.$ref === PARAM_REF)) {
        const rest = anyOf.filter((a) => (a as { $ref?: string })?.$ref !== PARAM_REF);
        if (rest.length === 1) {
          delete record.anyOf;
          Object.assign(record, rest[0]);
        } else record.anyOf = rest;
      }
    }
    stack.push(...(Array.isArray(node) ? node : Object.values(node)));
  }
  return copy;
}

/** ajv's options for the policy validators, compiled at run time or precompiled (the same options give the same errors). */
export const POLICY_AJV_OPTIONS = { allErrors: true, strict: false, verbose: true } as const;

/**
 * Adds the loader schema and one schema per transform step kind (the step alone, with the schema's definitions) to
 * an ajv instance; returns the `$id`/ref of each validator by the name the precompiled module exports it under.
 */
export function addPolicySchemas(ajv: { addSchema(schema: object): unknown }, schema: Record<string, unknown>): Record<string, string> {
  ajv.addSchema(schema);
  const refs: Record<string, string> = { validateDocument: POLICY_SCHEMA_ID, validateOperators: `${POLICY_SCHEMA_ID}#/definitions/operators` };
  const steps = (schema.definitions as Record<string, { oneOf?: unknown[] }>).transform.oneOf!;
  for (const [i, kind] of TRANSFORM_KINDS.entries()) {
    ajv.addSchema({ $id: transformSchemaId(kind), definitions: schema.definitions, ...(steps[i] as object), type: 'object' });
    refs[`validateTransform_${kind}`] = transformSchemaId(kind);
  }
  return refs;
}
