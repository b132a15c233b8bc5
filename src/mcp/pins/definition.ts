import { canonicalHash } from '../../core/canonical-json.js';
import { isPlainObject } from '../../core/plain-object.js';
import type { McpTool } from '../hooks.js';

/** The fields of a tool that a model reads or that shape its calls: what is pinned. */
const PINNED_FIELDS = ['title', 'description', 'inputSchema', 'outputSchema', 'annotations'] as const;

/** What is pinned of a tool: its title, description, input and output schemas and annotations, as listed. */
export function toolDefinition(tool: McpTool): Record<string, unknown> {
  const definition: Record<string, unknown> = {};
  for (const field of PINNED_FIELDS) if (tool[field] !== undefined) definition[field] = tool[field];
  return definition;
}

/** `sha256:<hex>` of the canonical JSON (RFC 8785) of a definition: the same for any key order or spacing. */
export function definitionHash(definition: Record<string, unknown>): string {
  return canonicalHash(definition);
}

/**
 * Every string value of a definition, in document order: the description, the title, and every text inside the
 * schemas (property descriptions, enum values, defaults, examples), where instructions can hide as well.
 */
export function definitionTexts(definition: unknown): string[] {
  const out: string[] = [];
  const walk = (value: unknown, depth: number) => {
    if (typeof value === 'string') {
      if (value.trim() !== '') out.push(value);
    } else if (Array.isArray(value)) {
      if (depth < 64) for (const item of value) walk(item, depth + 1);
    } else if (isPlainObject(value)) {
      if (depth < 64) for (const item of Object.values(value)) walk(item, depth + 1);
    }
  };
  walk(definition, 0);
  return out;
}
