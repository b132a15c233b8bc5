/**
 * Dot paths into an Action: `input.sql`, `agent.id`, `input.to.*` (every element or value).
 * Only own properties are read, so `input.constructor` or `input.__proto__` can never reach the prototype.
 */
export const ACTION_ROOTS = ['agent', 'kind', 'name', 'input', 'context'] as const;

export const MISSING: unique symbol = Symbol('missing');
export type Missing = typeof MISSING;

export interface ParsedPath {
  text: string;
  segments: string[];
  hasWildcard: boolean;
}

const SEGMENT = /^(?:\*|[^.*\s][^.]*)$/;

/** Parses a dot path; returns an error message instead when the path is not valid. */
export function parsePath(text: string): ParsedPath | string {
  if (typeof text !== 'string' || text === '') return 'a path must be a non-empty string';
  const segments = text.split('.');
  const root = segments[0];
  if (!(ACTION_ROOTS as readonly string[]).includes(root)) {
    return `"${text}" does not start with a field of the action (${ACTION_ROOTS.join(', ')})`;
  }
  if ((root === 'kind' || root === 'name') && segments.length > 1) {
    return `"${root}" is a string, so "${text}" can never exist`;
  }
  for (const s of segments) {
    if (s === '' ) return `"${text}" has an empty segment (two dots in a row, or a dot at an end)`;
    if (!SEGMENT.test(s)) return `"${text}" has an invalid segment "${s}" (use "*" alone for any element)`;
  }
  return { text, segments, hasWildcard: segments.includes('*') };
}

function child(value: unknown, key: string): unknown {
  if (value === null || typeof value !== 'object') return MISSING;
  if (Array.isArray(value)) {
    if (!/^(0|[1-9]\d*)$/.test(key)) return MISSING;
    const i = Number(key);
    return i < value.length ? value[i] : MISSING;
  }
  return Object.prototype.hasOwnProperty.call(value, key) ? (value as Record<string, unknown>)[key] : MISSING;
}

/** Reads a path without wildcards. */
export function getPath(root: unknown, segments: readonly string[]): unknown {
  let v: unknown = root;
  for (let i = 0; i < segments.length; i++) {
    v = child(v, segments[i]);
    if (v === MISSING) return MISSING;
  }
  return v;
}

/** Reads every value a path with wildcards reaches; an empty list means missing. */
export function getAll(root: unknown, segments: readonly string[], from = 0, out: unknown[] = []): unknown[] {
  let v: unknown = root;
  for (let i = from; i < segments.length; i++) {
    const s = segments[i];
    if (s === '*') {
      if (v === null || typeof v !== 'object') return out;
      const items = Array.isArray(v) ? v : Object.values(v as Record<string, unknown>);
      for (const item of items) getAll(item, segments, i + 1, out);
      return out;
    }
    v = child(v, s);
    if (v === MISSING) return out;
  }
  out.push(v);
  return out;
}

function isContainer(v: unknown): v is Record<string, unknown> | unknown[] {
  return v !== null && typeof v === 'object';
}

/** Sets a value in place, creating plain objects on the way. Throws when an intermediate value is not an object. */
export function setPath(root: Record<string, unknown>, segments: readonly string[], value: unknown): void {
  let v: unknown = root;
  for (let i = 0; i < segments.length - 1; i++) {
    const s = segments[i];
    let next = child(v, s);
    if (next === MISSING) {
      next = {};
      assign(v, s, next);
    }
    if (!isContainer(next)) throw new Error(`cannot set "${segments.join('.')}": "${segments.slice(0, i + 1).join('.')}" is not an object`);
    v = next;
  }
  assign(v, segments[segments.length - 1], value);
}

function assign(target: unknown, key: string, value: unknown): void {
  if (key === '__proto__' || key === 'constructor' || key === 'prototype') throw new Error(`refusing to write the key "${key}"`);
  if (Array.isArray(target)) {
    if (!/^(0|[1-9]\d*)$/.test(key)) throw new Error(`cannot write "${key}" into an array`);
    target[Number(key)] = value;
    return;
  }
  if (!isContainer(target)) throw new Error(`cannot write "${key}" into a non-object`);
  Object.defineProperty(target, key, { value, writable: true, enumerable: true, configurable: true });
}

/** Removes a value in place; a missing path is not an error. */
export function removePath(root: unknown, segments: readonly string[]): void {
  const parent = getPath(root, segments.slice(0, -1));
  const last = segments[segments.length - 1];
  if (!isContainer(parent)) return;
  if (Array.isArray(parent)) {
    if (/^(0|[1-9]\d*)$/.test(last) && Number(last) < parent.length) parent.splice(Number(last), 1);
    return;
  }
  if (Object.prototype.hasOwnProperty.call(parent, last)) delete (parent as Record<string, unknown>)[last];
}
