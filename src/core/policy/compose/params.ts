import type { ErrorObject, ValidateFunction } from 'ajv';
import { describeType } from '../../action.js';
import { newAjv } from '../../lazy-ajv.js';
import { isPlainObject } from '../../plain-object.js';
import type { PathSegment } from '../problem.js';
import { suggest } from '../schema.js';

/** A pack's declared parameters: name → JSON Schema (draft-07) of its value, usually with a `default`. */
export type ParamDeclarations = Record<string, Record<string, unknown>>;

/** A problem found with parameters, at `segments` of the file named by `where` (the pack or the including file). */
export interface ParamProblem {
  where: 'declaring' | 'including';
  segments: PathSegment[];
  message: string;
  hint?: string;
  target?: 'key' | 'value';
}

const compiled = new WeakMap<ParamDeclarations, ValidateFunction | ParamProblem[]>();

/**
 * The object schema of all parameters: unknown names are refused, names without a default are required. One ajv
 * instance per declaration (kept only as long as the document): ajv keeps every schema it compiled, and a sidecar
 * that reloads its policy would otherwise keep them all.
 */
function validatorFor(declared: ParamDeclarations): ValidateFunction | ParamProblem[] {
  const cached = compiled.get(declared);
  if (cached) return cached;
  const ajv = newAjv({ allErrors: true, strict: false, useDefaults: true, verbose: true });
  const problems: ParamProblem[] = [];
  for (const [name, schema] of Object.entries(declared)) {
    try {
      ajv.compile(schema);
    } catch (error) {
      problems.push({ where: 'declaring', segments: ['params', name], message: `the JSON Schema of parameter "${name}" is invalid: ${(error as Error).message}`, hint: 'Write a draft-07 JSON Schema, e.g. { type: array, items: { type: string }, default: [] }.' });
    }
  }
  let result: ValidateFunction | ParamProblem[] = problems;
  if (problems.length === 0) {
    const required = Object.entries(declared).filter(([, s]) => !('default' in s)).map(([n]) => n);
    result = ajv.compile({ type: 'object', properties: declared, additionalProperties: false, required });
  }
  compiled.set(declared, result);
  return result;
}

/**
 * The parameter values a file is compiled with: the given ones, checked against the declarations, and the defaults of
 * the rest. Values are data only (text, numbers, booleans, or lists of them), so a value can never become policy.
 * `at` is where the given values sit in the including file (e.g. `['include', 0, 'params']`).
 */
export function resolveParams(declared: ParamDeclarations, given: Record<string, unknown> | undefined, at: PathSegment[], packLabel: string): { values: Record<string, unknown>; problems: ParamProblem[] } {
  // Nothing declared and nothing given (most policies): the empty object is valid, with no schema to compile.
  if (Object.keys(declared).length === 0 && (given === undefined || given === null || (isPlainObject(given) && Object.keys(given).length === 0))) return { values: {}, problems: [] };
  const validate = validatorFor(declared);
  if (Array.isArray(validate)) return { values: {}, problems: validate };
  const values = structuredClone(given ?? {});
  const problems: ParamProblem[] = [];
  if (!validate(values)) {
    for (const e of validate.errors ?? []) problems.push(describeParamError(e, declared, at, packLabel));
  }
  for (const [name, value] of Object.entries(values)) {
    if (!isDataValue(value)) {
      problems.push({
        where: Object.prototype.hasOwnProperty.call(given ?? {}, name) ? 'including' : 'declaring',
        segments: Object.prototype.hasOwnProperty.call(given ?? {}, name) ? [...at, name] : ['params', name],
        message: `parameter "${name}" must be text, a number, a boolean or a list of them, got ${describeType(value)}`,
        hint: 'Parameters carry data (names, hosts, limits) into a pack; they cannot carry conditions or rules.',
      });
    }
  }
  return { values, problems: dedupe(problems) };
}

function isScalar(value: unknown): boolean {
  return value === null || ['string', 'number', 'boolean'].includes(typeof value);
}

function isDataValue(value: unknown): boolean {
  return isScalar(value) || (Array.isArray(value) && value.every(isScalar));
}

function describeParamError(e: ErrorObject, declared: ParamDeclarations, at: PathSegment[], packLabel: string): ParamProblem {
  const names = Object.keys(declared);
  const list = names.map((n) => (typeof declared[n].description === 'string' ? `${n} (${firstSentence(declared[n].description as string)})` : n)).join('; ');
  const segments = [...at, ...pointerSegments(e.instancePath)];
  const name = segments[at.length] as string | undefined;
  const about = name !== undefined && typeof declared[name]?.description === 'string' ? ` ${name}: ${declared[name].description as string}` : '';
  const make = (message: string, hint?: string, target: 'key' | 'value' = 'value', where = segments): ParamProblem => ({ where: 'including', segments: where, message, hint, target });
  switch (e.keyword) {
    case 'additionalProperties': {
      const key = (e.params as { additionalProperty: string }).additionalProperty;
      return make(`${packLabel} has no parameter "${key}"`, `Its parameters: ${list || 'none'}.${suggest(key, names)}`, 'key', [...segments, key]);
    }
    case 'required': {
      const missing = (e.params as { missingProperty: string }).missingProperty;
      if (at.length === 0) {
        return { where: 'declaring', segments: ['params', missing], target: 'key', message: `parameter "${missing}" has no default, so this file cannot be used on its own`, hint: `Give it a default, or include this file from a policy that sets it: include: [{ pack: ./this-file.yaml, params: { ${missing}: … } }].` };
      }
      return make(`${packLabel} needs parameter "${missing}"`, `Add params: { ${missing}: … }.${typeof declared[missing]?.description === 'string' ? ` ${missing}: ${declared[missing].description as string}` : ''}`, 'key', at.length > 0 ? at.slice(0, -1) : at);
    }
    case 'type':
      return make(`${label(segments, at)} must be ${article((e.params as { type: string }).type)}, got ${describeType(e.data)}`, about.trim() || undefined);
    case 'enum':
      return make(`${label(segments, at)} must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')}; got ${describeType(e.data)}`, about.trim() || undefined);
    case 'minItems':
      return make(`${label(segments, at)} needs at least ${(e.params as { limit: number }).limit} item${(e.params as { limit: number }).limit === 1 ? '' : 's'}`, about.trim() || undefined);
    case 'maxItems':
      return make(`${label(segments, at)} has more than ${(e.params as { limit: number }).limit} items`, about.trim() || undefined);
    case 'pattern':
      return make(`${label(segments, at)}: ${JSON.stringify(e.data)} does not have the form this parameter needs (${(e.params as { pattern: string }).pattern})`, about.trim() || undefined);
    case 'uniqueItems':
      return make(`${label(segments, at)} lists an item twice`, 'Remove the repeated item.');
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return make(`${label(segments, at)} ${e.message ?? 'is out of range'}, got ${describeType(e.data)}`, about.trim() || undefined);
    default:
      return make(`${label(segments, at)} ${e.message ?? `fails "${e.keyword}"`}`, about.trim() || undefined);
  }
}

/** The first sentence of a description, without its full stop: hints list every parameter, so they stay short. */
function firstSentence(text: string): string {
  const end = text.search(/[.:](?:\s|$)/);
  return (end === -1 ? text : text.slice(0, end)).trim();
}

function label(segments: PathSegment[], at: PathSegment[]): string {
  const rest = segments.slice(at.length);
  if (rest.length === 0) return 'params';
  return `parameter ${rest.map((s, i) => (typeof s === 'number' ? `[${s}]` : i === 0 ? `"${s}"` : `.${s}`)).join('')}`;
}

function article(type: string): string {
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}

function pointerSegments(pointer: string): PathSegment[] {
  if (pointer === '') return [];
  return pointer.slice(1).split('/').map((raw) => {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    return /^\d+$/.test(key) ? Number(key) : key;
  });
}

function dedupe(problems: ParamProblem[]): ParamProblem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const key = `${p.segments.join('\u0000')}\u0001${p.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** The reference forms: the value itself, a regex template, a text template (messages). */
const REFERENCES = ['$param', '$regex', '$text'] as const;
const EXAMPLES: Record<(typeof REFERENCES)[number], string> = {
  $param: '{ $param: tables }',
  $regex: '{ $regex: "^https://{hosts}/" }',
  $text: '{ $text: "Email may only go to {domains}." }',
};

/** `{name}` in a `$text` template: the value's text; a list is its items joined by ", ". */
function textOf(value: unknown): string {
  return Array.isArray(value) ? value.map(String).join(', ') : String(value);
}

const PLACEHOLDER = /\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

function escapeRegex(text: string): string {
  // Only syntax characters: their escapes are valid with and without the u flag.
  return text.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&');
}

/** `{name}` in a `$regex` template: the value's text, regex-escaped; a list is an alternation of its escaped items. */
function regexOf(value: unknown): string {
  if (Array.isArray(value)) return value.length === 0 ? '(?!)' : `(?:${value.map((v) => escapeRegex(String(v))).join('|')})`;
  return escapeRegex(String(value));
}

/**
 * Replaces parameter references in a parsed file: `{ $param: name }` by a copy of the value,
 * `{ $regex: "…{name}…" }` by the template with each `{name}` replaced by the value as a regex that matches exactly
 * its text (a list: any one of its items), and `{ $text: "…{name}…" }` by the template with the value's text. Other strings are never scanned, and values are not substituted again.
 * Returns the new data and a problem for every unknown name or malformed reference.
 */
export function substituteParams(data: unknown, values: Record<string, unknown>, declared: ParamDeclarations): { data: unknown; problems: ParamProblem[]; used: Set<string> } {
  const problems: ParamProblem[] = [];
  const used = new Set<string>();
  const names = Object.keys(declared);
  const unknown = (name: string, segments: PathSegment[]) =>
    problems.push({
      where: 'declaring', segments, message: `unknown parameter "${name}"`,
      hint: names.length > 0 ? `This file declares: ${names.join(', ')}.${suggest(name, names)}` : 'Declare it under params: at the top of this file, with a JSON Schema and a default.',
    });
  const walk = (node: unknown, segments: PathSegment[]): unknown => {
    if (Array.isArray(node)) return node.map((item, i) => walk(item, [...segments, i]));
    if (node === null || typeof node !== 'object') return node;
    const record = node as Record<string, unknown>;
    const keys = Object.keys(record);
    const key = REFERENCES.find((k) => keys.includes(k));
    if (key) {
      if (keys.length !== 1) {
        problems.push({ where: 'declaring', segments, message: `a ${key} reference stands alone; this object also has ${keys.filter((k) => k !== key).join(', ')}`, hint: `Write it as the whole value, e.g. ${EXAMPLES[key]}.` });
        return node;
      }
      const operand = record[key];
      if (typeof operand !== 'string') {
        problems.push({ where: 'declaring', segments: [...segments, key], message: `${key} takes ${key === '$param' ? 'a parameter name' : 'a template'}, got ${describeType(operand)}`, hint: `For example ${EXAMPLES[key]}.` });
        return node;
      }
      if (key === '$param') {
        if (!names.includes(operand)) {
          unknown(operand, [...segments, key]);
          return node;
        }
        used.add(operand);
        return structuredClone(values[operand]);
      }
      return operand.replace(PLACEHOLDER, (whole, name: string) => {
        if (!names.includes(name)) {
          unknown(name, [...segments, key]);
          return whole;
        }
        used.add(name);
        return key === '$regex' ? regexOf(values[name]) : textOf(values[name]);
      });
    }
    const out: Record<string, unknown> = {};
    for (const k of keys) out[k] = walk(record[k], [...segments, k]);
    return out;
  };
  // The declarations themselves (defaults may hold anything) and a pack's own metadata are not substituted; the
  // parameters of an include are, so a pack can pass its own parameters on to a pack it includes.
  const root = data as Record<string, unknown>;
  const result: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(root)) result[k] = k === 'params' || k === 'pack' ? v : walk(v, [k]);
  return { data: result, problems, used };
}
