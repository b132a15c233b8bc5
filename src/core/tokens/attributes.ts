import type { Action } from '../action.js';
import { AgentGuardError } from '../errors.js';

/**
 * Attributes a token vouches for: fields of the Action that the agent holding the token cannot choose. Keys are dot
 * paths in one of ATTRIBUTE_NAMESPACES (`agent.role`, `context.env`), values are strings. `agent.id` is not one:
 * the token's scope binds it.
 *
 * @example { 'agent.role': 'support', 'context.env': 'prod' }
 */
export type TokenAttributes = Readonly<Record<string, string>>;

/** The parts of an Action a token can bind, one level deep: `agent.<name>` and `context.<name>`. */
export const ATTRIBUTE_NAMESPACES = ['agent', 'context'] as const;

/** At most this many attributes per token, each value at most this long. */
export const MAX_ATTRIBUTES = 32;
export const MAX_ATTRIBUTE_VALUE_LENGTH = 256;

const NAME = /^[A-Za-z_][A-Za-z0-9_-]{0,63}$/;

/** Why `path` cannot be bound by a token, or null when it can. */
export function attributePathProblem(path: string): string | null {
  const dot = path.indexOf('.');
  const namespace = dot < 0 ? '' : path.slice(0, dot);
  const name = dot < 0 ? path : path.slice(dot + 1);
  if (!(ATTRIBUTE_NAMESPACES as readonly string[]).includes(namespace)) return `"${path.slice(0, 80)}" is not agent.<name> or context.<name>`;
  if (!NAME.test(name)) return `"${name.slice(0, 80)}" is not a name (a letter or _, then up to 63 letters, digits, _ or -)`;
  if (path === 'agent.id') return 'agent.id is bound by the token itself (--agent)';
  return null;
}

function valueProblem(value: string): string | null {
  if (value.length > MAX_ATTRIBUTE_VALUE_LENGTH) return `the value is ${value.length} characters long; the limit is ${MAX_ATTRIBUTE_VALUE_LENGTH}`;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(value)) return 'the value contains control characters';
  return null;
}

/**
 * Reads `--attr` values: `name=value` binds `agent.<name>`; `agent.name=value` and `context.name=value` name the
 * namespace. A usage error (exit 2) says which one is wrong and why.
 *
 * @example parseAttributeFlags(['role=support', 'context.env=prod']) // { 'agent.role': 'support', 'context.env': 'prod' }
 */
export function parseAttributeFlags(flags: readonly string[]): TokenAttributes {
  const out: Record<string, string> = {};
  for (const flag of flags) {
    const eq = flag.indexOf('=');
    const bad = (why: string) =>
      new AgentGuardError('TOKEN_ATTRIBUTE_INVALID', `--attr ${JSON.stringify(flag.slice(0, 80))} cannot be used: ${why}`, {
        actions: ['Pass --attr name=value (binds agent.<name>) or --attr context.<name>=value, e.g. --attr role=support --attr context.env=prod.'],
      });
    if (eq <= 0) throw bad('it is not name=value');
    const key = flag.slice(0, eq);
    const path = key.includes('.') ? key : `agent.${key}`;
    const problem = attributePathProblem(path) ?? valueProblem(flag.slice(eq + 1));
    if (problem !== null) throw bad(problem);
    if (Object.hasOwn(out, path)) throw bad(`${path} is given twice`);
    out[path] = flag.slice(eq + 1);
  }
  if (Object.keys(out).length > MAX_ATTRIBUTES) {
    throw new AgentGuardError('TOKEN_ATTRIBUTE_INVALID', `a token can bind at most ${MAX_ATTRIBUTES} attributes`);
  }
  return out;
}

/** Attributes read back from storage; null when they are not a valid attribute map (a hand-edited database). */
export function parseStoredAttributes(text: string | null): TokenAttributes | null {
  if (text === null || text === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return null;
  for (const [path, v] of Object.entries(value)) {
    if (typeof v !== 'string' || attributePathProblem(path) !== null || valueProblem(v) !== null) return null;
  }
  return value as TokenAttributes;
}

/** `role=support, context.env=prod`: how people read and write them (agent.* without its namespace). */
export function formatAttributes(attributes: TokenAttributes): string {
  return Object.entries(attributes)
    .map(([path, value]) => `${path.startsWith('agent.') ? path.slice(6) : path}=${value}`)
    .join(', ');
}

/** A bound attribute the request sent with another value. */
export interface AttributeConflict {
  path: string;
  bound: string;
}

/**
 * The action with the token's attributes filled in, or the first attribute the action sets to another value (the
 * caller refuses the request: an agent may repeat what its token vouches for, never change it). Pure: `action` is
 * not modified.
 */
export function bindAttributes(action: Action, attributes: TokenAttributes | undefined): { action: Action } | { conflict: AttributeConflict } {
  const entries = attributes ? Object.entries(attributes) : [];
  if (entries.length === 0) return { action };
  const parts: Record<string, Record<string, unknown>> = {};
  for (const [path, bound] of entries) {
    const dot = path.indexOf('.');
    const namespace = path.slice(0, dot);
    const name = path.slice(dot + 1);
    const given = (action as unknown as Record<string, unknown>)[namespace];
    const container = given !== null && typeof given === 'object' && !Array.isArray(given) ? (given as Record<string, unknown>) : undefined;
    if (given !== undefined && container === undefined) return { conflict: { path, bound } };
    if (container !== undefined && Object.hasOwn(container, name) && container[name] !== bound) return { conflict: { path, bound } };
    parts[namespace] ??= { ...(container ?? {}) };
    parts[namespace][name] = bound;
  }
  return { action: { ...action, ...parts } as Action };
}
