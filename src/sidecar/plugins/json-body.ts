import type { FastifyInstance } from 'fastify';
import { maskText } from '../../core/audit/mask.js';
import { AgentGuardError, type ErrorCode } from '../../core/errors.js';
import { syntaxMessage } from './errors.js';

/** Deepest nesting of objects and arrays accepted in a request body (the policy loader uses the same limit). */
export const MAX_JSON_DEPTH = 64;

/**
 * Why a parsed JSON value is refused, or undefined when it is fine: nesting deeper than `maxDepth`; a `__proto__`
 * key (harmless in the parsed object itself, but a prototype-pollution gadget for any code that later merges it); a
 * number JSON.parse turned into ±Infinity (`1e999`), which no audit record can hold; an integer beyond ±(2^53 − 1),
 * which would be judged as a different number than the one sent; a lone UTF-16 surrogate in a key or string, which
 * the audit store cannot keep as sent. Iterative, so a hostile document cannot overflow the stack.
 */
export function jsonBodyProblem(value: unknown, maxDepth = MAX_JSON_DEPTH): { code: ErrorCode; message: string } | undefined {
  // Paths are built only for the message of a problem: most bodies have none.
  const stack: Node[] = [{ value, depth: 1, parent: undefined, key: undefined }];
  while (stack.length > 0) {
    const node = stack.pop()!;
    const v = node.value;
    if (typeof v === 'number') {
      const problem = numberProblem(v, node);
      if (problem) return problem;
      continue;
    }
    if (typeof v === 'string') {
      if (!wellFormed(v)) return loneSurrogate(pathOf(node));
      continue;
    }
    if (v === null || typeof v !== 'object') continue;
    const depth = node.depth;
    if (depth > maxDepth) {
      return { code: 'JSON_TOO_DEEP', message: `${shorten(pathOf(node))} is nested more than ${maxDepth} levels deep; flatten the data` };
    }
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) if (needsCheck(v[i])) stack.push({ value: v[i], depth: depth + 1, parent: node, key: i });
      continue;
    }
    for (const key of Object.keys(v)) {
      if (key === '__proto__') return { code: 'FORBIDDEN_KEY', message: `${shorten(pathOf(node))} has a "__proto__" key, which is not accepted` };
      if (!wellFormed(key)) return loneSurrogate(pathOf(node), 'a key');
      const child = (v as Record<string, unknown>)[key];
      if (needsCheck(child)) stack.push({ value: child, depth: depth + 1, parent: node, key });
    }
  }
  return undefined;
}

/** A value met while checking a body: where it is, as its parent and its key or index there. */
interface Node {
  value: unknown;
  depth: number;
  parent: Node | undefined;
  key: string | number | undefined;
}

/** `body.a.b[2]`: the path of a node, for messages. */
function pathOf(node: Node): string {
  const parts: string[] = [];
  for (let n: Node | undefined = node; n?.parent !== undefined; n = n.parent) parts.push(typeof n.key === 'number' ? `[${n.key}]` : `.${n.key}`);
  return `body${parts.reverse().join('')}`;
}

/** Bodies shorter than this are parsed without the nesting pre-scan: V8 parses them deep or not in a few ms. */
const PRESCAN_FROM = 16 * 1024;
/** A JSON string (skipped whole) or one bracket. */
const STRING_OR_BRACKET = /"[^"\\]*(?:\\[\s\S][^"\\]*)*"|[[\]{}]/g;

/**
 * True when brackets outside strings nest deeper than `maxDepth`, found by one pass over the text before JSON.parse:
 * V8 takes about 0.3-0.5 s to parse 1 MiB of `[[[[…` (twenty to forty times a flat document of that size), time
 * the event loop would spend on every such request. The pass skips strings with one regular expression, so it costs
 * less than the parse of an ordinary body; malformed text is left to JSON.parse to describe.
 */
export function nestingExceeds(text: string, maxDepth: number): boolean {
  const token = new RegExp(STRING_OR_BRACKET);
  let depth = 0;
  for (let m = token.exec(text); m !== null; m = token.exec(text)) {
    const c = m[0].charCodeAt(0);
    if (c === 0x22) continue;
    if (c === 0x5b || c === 0x7b) {
      if (++depth > maxDepth) return true;
    } else {
      depth--;
    }
  }
  return false;
}

/** Objects and arrays are walked; numbers and strings are checked; booleans and null need nothing. */
function needsCheck(value: unknown): boolean {
  return value !== null && (typeof value === 'object' || typeof value === 'number' || typeof value === 'string');
}

function numberProblem(value: number, node: Node): { code: ErrorCode; message: string } | undefined {
  if (!Number.isFinite(value)) {
    return { code: 'NON_FINITE_NUMBER', message: `${shorten(pathOf(node))} is a number too large for a double (it would be ${value}); send a finite number, or the value as a string` };
  }
  // Integers beyond ±(2^53 − 1) are kept as the nearest double, like every JSON parser of JavaScript does: refusing
  // them would refuse int64 ids and nanosecond times that agents send every day. Decided and recorded alike.
  return undefined;
}

const SURROGATE = /[\uD800-\uDFFF]/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** String.prototype.isWellFormed (ES2024), with a cheap first test: most text has no surrogate at all. */
function wellFormed(text: string): boolean {
  return !SURROGATE.test(text) || !LONE_SURROGATE.test(text);
}

function loneSurrogate(path: string, what = 'a string'): { code: ErrorCode; message: string } {
  return { code: 'INVALID_UNICODE', message: `${shorten(path)} has ${what} with an unpaired UTF-16 surrogate (\\uD800-\\uDFFF alone), which is not valid Unicode; send well-formed text` };
}

/** Keeps messages short when keys are long: the start of the path says where, the rest adds nothing. */
function shorten(path: string): string {
  // Keys are the client's text: one may be a secret sent in the wrong place, so it is masked like in audit records.
  return maskText(path.length > 200 ? `${path.slice(0, 200)}…` : path);
}

/**
 * Makes `application/json` the only body type the app accepts (anything else is a 415), parsed with JSON.parse so a
 * syntax error names its position, and checked with jsonBodyProblem. Bodies over `bodyLimit` bytes are refused with a
 * 413 while they stream in, before any parsing.
 */
export function registerJsonBody(app: FastifyInstance, options: { bodyLimit: number; maxDepth?: number }): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit: options.bodyLimit }, (_request, body, done) => {
    const text = body as string;
    if (text.trim() === '') {
      done(new AgentGuardError('MALFORMED_JSON', 'the body is empty but the Content-Type is application/json: send a JSON object, or no Content-Type'), undefined);
      return;
    }
    const maxDepth = options.maxDepth ?? MAX_JSON_DEPTH;
    if (text.length >= PRESCAN_FROM && nestingExceeds(text, maxDepth)) {
      done(new AgentGuardError('JSON_TOO_DEEP', `the body is nested more than ${maxDepth} levels deep; flatten the data`), undefined);
      return;
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      done(new AgentGuardError('MALFORMED_JSON', `the body is not valid JSON: ${syntaxMessage(error as Error)}`), undefined);
      return;
    }
    const problem = jsonBodyProblem(value, options.maxDepth);
    if (problem) {
      done(new AgentGuardError(problem.code, problem.message), undefined);
      return;
    }
    done(null, value);
  });
}
