import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { maskText as maskSecretText } from '../../core/audit/mask.js';
import { maskTokens } from '../../core/tokens/token-format.js';
import { loggedPath } from '../log/access-log.js';

/** The body of every error answer: `{ "error": { "code", "message", "details"? } }`. */
export interface ErrorBody {
  error: { code: string; message: string; details?: Record<string, unknown> };
}

/**
 * An error a route throws on purpose: its status, code, message and details go to the client as they are. Only for
 * what the client should see; anything else thrown becomes a generic 500.
 *
 * @example throw new HttpError(404, 'DECISION_NOT_FOUND', `no decision ${id} is known to this sidecar`);
 */
export class HttpError extends Error {
  override name = 'HttpError';
  readonly statusCode: number;
  readonly code: string;
  readonly details?: Record<string, unknown>;

  constructor(statusCode: number, code: string, message: string, details?: Record<string, unknown>) {
    super(message);
    this.statusCode = statusCode;
    this.code = code;
    this.details = details;
  }
}

/**
 * JSON.parse's message without the piece of the body V8 quotes in it (`Unexpected token 'a', "{"a": agk_…"... is not
 * valid JSON`): a body may hold a secret, and error messages end up in clients' logs.
 */
export function syntaxMessage(error: Error): string {
  return String(error?.message ?? error).replace(/,\s*(?:\.\.\.)?".*"(?:\.\.\.)?\s+is not valid JSON$/s, '');
}

/** Secrets the audit masker knows, and agentguard's own tokens, masked in text that may quote a request. */
function maskText(text: string): string {
  return maskTokens(maskSecretText(text));
}

/** Builds an error body. */
export function errorBody(code: string, message: string, details?: Record<string, unknown>): ErrorBody {
  return { error: details === undefined ? { code, message } : { code, message, details } };
}

/** fastify's own client-error codes, renamed to ours with a message a client can act on. */
const FASTIFY_CLIENT_ERRORS: Record<string, { status: number; code: string; message?: (e: FastifyError) => string }> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: {
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
    message: () => 'the body must be JSON: send it with `Content-Type: application/json`',
  },
  FST_ERR_CTP_INVALID_TYPE: { status: 415, code: 'UNSUPPORTED_MEDIA_TYPE', message: () => 'the Content-Type header must be a string' },
  FST_ERR_CTP_EMPTY_JSON_BODY: {
    status: 400,
    code: 'MALFORMED_JSON',
    message: () => 'the body is empty but the Content-Type is application/json: send a JSON object, or no Content-Type',
  },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { status: 400, code: 'INVALID_CONTENT_LENGTH', message: () => 'the Content-Length header does not match the body' },
  FST_ERR_CTP_INVALID_JSON_BODY: { status: 400, code: 'MALFORMED_JSON' },
  FST_ERR_CTP_EMPTY_TYPE: { status: 415, code: 'UNSUPPORTED_MEDIA_TYPE', message: () => 'the Content-Type header is empty' },
};

interface ValidationIssue {
  instancePath?: string;
  message?: string;
  keyword?: string;
  params?: Record<string, unknown>;
}

/** `body.action.kind` style location of an ajv error. */
function issuePath(context: string | undefined, issue: ValidationIssue): string {
  const parts = (issue.instancePath ?? '').split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (issue.keyword === 'additionalProperties' && typeof issue.params?.additionalProperty === 'string') parts.push(issue.params.additionalProperty);
  if (issue.keyword === 'required' && typeof issue.params?.missingProperty === 'string') parts.push(issue.params.missingProperty);
  return [context ?? 'body', ...parts].join('.');
}

function issueMessage(issue: ValidationIssue): string {
  if (issue.keyword === 'additionalProperties') return 'is not a known field; remove it';
  if (issue.keyword === 'required') return 'is required';
  if (issue.keyword === 'type' && typeof issue.params?.type === 'string') return `must be ${issue.params.type === 'object' ? 'a JSON object' : `of type ${issue.params.type}`}`;
  if (issue.keyword === 'enum' && Array.isArray(issue.params?.allowedValues)) return `must be one of: ${issue.params.allowedValues.join(', ')}`;
  return issue.message ?? 'is invalid';
}

/** Turns a request-validation error into a 400 that names each field and what is wrong with it. */
function validationBody(error: FastifyError): ErrorBody {
  const issues = (error.validation ?? []) as ValidationIssue[];
  const problems = issues.map((issue) => ({ path: issuePath(error.validationContext, issue), message: issueMessage(issue) }));
  const first = problems[0];
  const message = first ? `${first.path} ${first.message}` : error.message;
  return errorBody('INVALID_REQUEST', message, { problems });
}

/** The validation answer with token-shaped text masked in its messages (an unknown field's name is the client's text). */
function maskedBody(body: ErrorBody): ErrorBody {
  const problems = (body.error.details?.problems ?? []) as { path: string; message: string }[];
  return errorBody(body.error.code, maskText(body.error.message), { problems: problems.map((p) => ({ path: maskText(p.path), message: p.message })) });
}

/** True for errors that are the client's doing, with a status fastify or a parser set on purpose. */
function clientStatus(error: FastifyError): number | undefined {
  const status = error.statusCode;
  return typeof status === 'number' && status >= 400 && status < 500 ? status : undefined;
}

/**
 * The one error handler and the 404 handler. 4xx answers carry a message the client can act on; every other error is
 * logged with the request's id, method and route and answered with a generic 500, so internals never reach a client.
 */
export function registerErrorHandling(app: FastifyInstance, options: { bodyLimit: number }): void {
  app.setErrorHandler((error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    if (error instanceof HttpError) {
      if (error.statusCode >= 500) request.log.error({ err: error, route: request.routeOptions.url }, 'request failed');
      // A 4xx message may quote the request (an id, a field name): agentguard tokens in it are masked. (Parsers that
      // quote field names mask other secrets themselves, see jsonBodyProblem.)
      const message = error.statusCode < 500 ? maskTokens(error.message) : error.message;
      return reply.code(error.statusCode).send(errorBody(error.code, message, error.details));
    }
    if (error.validation) return reply.code(400).send(maskedBody(validationBody(error)));
    if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      return reply.code(413).send(errorBody('BODY_TOO_LARGE', `the body is larger than the limit of ${options.bodyLimit} bytes`, { limit: options.bodyLimit }));
    }
    const known = error.code ? FASTIFY_CLIENT_ERRORS[error.code] : undefined;
    if (known) return reply.code(known.status).send(errorBody(known.code, known.message?.(error) ?? error.message));
    // A SyntaxError from the JSON parser, or another error a parser marked as the client's (statusCode 4xx).
    const status = clientStatus(error);
    if (status !== undefined) {
      const code = error instanceof SyntaxError ? 'MALFORMED_JSON' : status === 413 ? 'BODY_TOO_LARGE' : 'BAD_REQUEST';
      const message = error instanceof SyntaxError ? `the body is not valid JSON: ${syntaxMessage(error)}` : error.message;
      return reply.code(status).send(errorBody(code, maskText(message)));
    }
    request.log.error({ err: error, method: request.method, route: request.routeOptions.url }, 'request failed');
    return reply.code(500).send(errorBody('INTERNAL', 'The sidecar failed to handle this request; the details are in its log.'));
  });

  app.setNotFoundHandler((request: FastifyRequest, reply: FastifyReply) => {
    reply.code(404).send(errorBody('NOT_FOUND', `no route ${request.method.slice(0, 16)} ${loggedPath(request.url)}`));
  });
}
