import { isPlainObject } from '../core/plain-object.js';
import { HookPayloadError } from './types.js';

/** A string field of a payload, or undefined when absent or not a non-empty string. */
export function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** A required string field; a clear HookPayloadError naming the field otherwise. */
export function requireText(record: Record<string, unknown>, key: string, where: string): string {
  const value = text(record[key]);
  if (value === undefined) throw new HookPayloadError(`${where}.${key} must be a non-empty string`);
  return value;
}

/** An object field; tool arguments some agents send as a JSON string are parsed. */
export function objectOf(value: unknown, where: string, { optional = false } = {}): Record<string, unknown> {
  if (value === undefined && optional) return {};
  if (typeof value === 'string') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(value);
    } catch {
      throw new HookPayloadError(`${where} is a string that is not JSON`);
    }
    if (isPlainObject(parsed)) return parsed;
    throw new HookPayloadError(`${where} must be a JSON object`);
  }
  if (isPlainObject(value)) return value;
  throw new HookPayloadError(`${where} must be an object`);
}

/**
 * The texts of a tool's result, in order: a string as it is, else every string inside it (Claude Code's and Gemini
 * CLI's response objects, MCP content blocks). Keys are not text the agent reads, so only values count.
 */
export function textsOf(value: unknown, limit = 256): string[] {
  const out: string[] = [];
  const walk = (node: unknown, depth: number): void => {
    if (out.length >= limit || depth > 12) return;
    if (typeof node === 'string') {
      if (node !== '') out.push(node);
    } else if (Array.isArray(node)) {
      for (const item of node) walk(item, depth + 1);
    } else if (isPlainObject(node)) {
      for (const item of Object.values(node)) walk(item, depth + 1);
    }
  };
  walk(value, 0);
  return out;
}
