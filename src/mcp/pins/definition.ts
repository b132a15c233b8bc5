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

/** Deeper definitions are refused (the tool is flagged) rather than partly read. */
export const MAX_DEFINITION_DEPTH = 64;

/**
 * Every string value of a definition, in document order: the description, the title, and every text inside the
 * schemas (property descriptions, enum values, defaults, examples), where instructions can hide as well. Throws for
 * a definition nested deeper than MAX_DEFINITION_DEPTH.
 */
export function definitionTexts(definition: unknown): string[] {
  const out: string[] = [];
  const walk = (value: unknown, depth: number) => {
    if (typeof value === 'string') {
      if (value.trim() !== '') out.push(value);
      return;
    }
    if (!Array.isArray(value) && !isPlainObject(value)) return;
    if (depth >= MAX_DEFINITION_DEPTH) throw new Error(`the definition is nested more than ${MAX_DEFINITION_DEPTH} levels deep`);
    for (const item of Array.isArray(value) ? value : Object.values(value)) walk(item, depth + 1);
  };
  walk(definition, 0);
  return out;
}

/** NFKC, then without invisible format characters (zero-width spaces, joiners, tag characters, direction marks). */
export function normalizedText(text: string): string {
  return text.normalize('NFKC').replace(/\p{Cf}/gu, '');
}
