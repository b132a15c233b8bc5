import type { FastifyInstance } from 'fastify';
import { HttpError } from './errors.js';

/** Deepest nesting of objects and arrays accepted in a request body (the policy loader uses the same limit). */
export const MAX_JSON_DEPTH = 64;

/**
 * Why a parsed JSON value is refused, or undefined when it is fine: nesting deeper than `maxDepth`, or a `__proto__`
 * key (harmless in the parsed object itself, but a prototype-pollution gadget for any code that later merges it).
 * Iterative, so a hostile document cannot overflow the stack.
 */
export function jsonBodyProblem(value: unknown, maxDepth = MAX_JSON_DEPTH): { code: string; message: string } | undefined {
  const stack: { value: unknown; depth: number; path: string }[] = [{ value, depth: 1, path: 'body' }];
  while (stack.length > 0) {
    const { value: node, depth, path } = stack.pop()!;
    if (node === null || typeof node !== 'object') continue;
    if (depth > maxDepth) {
      return { code: 'JSON_TOO_DEEP', message: `${shorten(path)} is nested more than ${maxDepth} levels deep; flatten the data` };
    }
    if (Array.isArray(node)) {
      for (let i = 0; i < node.length; i++) if (node[i] !== null && typeof node[i] === 'object') stack.push({ value: node[i], depth: depth + 1, path: `${path}[${i}]` });
      continue;
    }
    for (const key of Object.keys(node)) {
      if (key === '__proto__') return { code: 'FORBIDDEN_KEY', message: `${shorten(path)} has a "__proto__" key, which is not accepted` };
      const child = (node as Record<string, unknown>)[key];
      if (child !== null && typeof child === 'object') stack.push({ value: child, depth: depth + 1, path: `${path}.${key}` });
    }
  }
  return undefined;
}

/** Keeps messages short when keys are long: the start of the path says where, the rest adds nothing. */
function shorten(path: string): string {
  return path.length > 200 ? `${path.slice(0, 200)}…` : path;
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
      done(new HttpError(400, 'MALFORMED_JSON', 'the body is empty but the Content-Type is application/json: send a JSON object, or no Content-Type'), undefined);
      return;
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      done(new HttpError(400, 'MALFORMED_JSON', `the body is not valid JSON: ${(error as Error).message}`), undefined);
      return;
    }
    const problem = jsonBodyProblem(value, options.maxDepth);
    if (problem) {
      done(new HttpError(400, problem.code, problem.message), undefined);
      return;
    }
    done(null, value);
  });
}
