import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AgentGuardError, isAgentGuardError, type ErrorBody, type ErrorCode } from '../../core/errors.js';
import { maskText as maskSecretText } from '../../core/audit/mask.js';
import { maskTokens } from '../../core/tokens/token-format.js';
import { loggedPath } from '../log/access-log.js';

export type { ErrorBody } from '../../core/errors.js';

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

/** fastify's own client-error codes, renamed to ours (their statuses are the registry's) with a message a client can act on. */
const FASTIFY_CLIENT_ERRORS: Record<string, { code: ErrorCode; message?: string }> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { code: 'UNSUPPORTED_MEDIA_TYPE', message: 'the body must be JSON: send it with `Content-Type: application/json`' },
  FST_ERR_CTP_INVALID_TYPE: { code: 'UNSUPPORTED_MEDIA_TYPE', message: 'the Content-Type header must be a string' },
  FST_ERR_CTP_EMPTY_JSON_BODY: {
    code: 'MALFORMED_JSON',
    message: 'the body is empty but the Content-Type is application/json: send a JSON object, or no Content-Type',
  },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { code: 'INVALID_CONTENT_LENGTH', message: 'the Content-Length header does not match the body' },
  FST_ERR_CTP_INVALID_JSON_BODY: { code: 'MALFORMED_JSON' },
  FST_ERR_CTP_EMPTY_TYPE: { code: 'UNSUPPORTED_MEDIA_TYPE', message: 'the Content-Type header is empty' },
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

/** Turns a request-validation error into an INVALID_REQUEST that names each field and what is wrong with it (masked). */
function validationError(error: FastifyError): AgentGuardError {
  const issues = (error.validation ?? []) as ValidationIssue[];
  // Field names are the client's text: an unknown one may be a token sent in the wrong place.
  const problems = issues.map((issue) => ({ path: maskText(issuePath(error.validationContext, issue)), message: issueMessage(issue) }));
  const first = problems[0];
  const message = first ? `${first.path} ${first.message}` : maskText(error.message);
  return new AgentGuardError('INVALID_REQUEST', message, { details: { problems } });
}

/** True for errors that are the client's doing, with a status fastify or a parser set on purpose. */
function clientStatus(error: FastifyError): number | undefined {
  const status = error.statusCode;
  return typeof status === 'number' && status >= 400 && status < 500 ? status : undefined;
}

/** What a thrown value answers: an AgentGuardError as it is, fastify's and the parsers' client errors renamed, else undefined. */
function clientFacing(error: FastifyError, bodyLimit: number): AgentGuardError | undefined {
  if (isAgentGuardError(error)) return error;
  if (error.validation) return validationError(error);
  if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    return new AgentGuardError('BODY_TOO_LARGE', `the body is larger than the limit of ${bodyLimit} bytes`, { details: { limit: bodyLimit } });
  }
  const known = error.code ? FASTIFY_CLIENT_ERRORS[error.code] : undefined;
  if (known) return new AgentGuardError(known.code, known.message ?? maskText(error.message));
  // A SyntaxError from the JSON parser, or another error a parser marked as the client's (statusCode 4xx).
  const status = clientStatus(error);
  if (status === undefined) return undefined;
  if (error instanceof SyntaxError) return new AgentGuardError('MALFORMED_JSON', maskText(`the body is not valid JSON: ${syntaxMessage(error)}`));
  if (status === 413) return new AgentGuardError('BODY_TOO_LARGE', maskText(error.message), { details: { limit: bodyLimit } });
  // fastify chose the status (405, 408, …); the code says only that the request cannot be handled as sent.
  return new AgentGuardError('BAD_REQUEST', maskText(error.message), { status });
}

/** The answer's body: the error's, with agentguard tokens masked in its message and actions (they may quote the request). */
function bodyOf(error: AgentGuardError): ErrorBody {
  const body = error.toBody();
  body.error.message = maskTokens(body.error.message);
  body.error.actions = body.error.actions.map(maskTokens);
  return body;
}

/**
 * The one error handler and the 404 handler. Every answer is `{ error: { code, message, actions, details? } }` with the
 * registry's status for its code. An AgentGuardError is answered as it is (logged when its status is 5xx); anything
 * else is logged with the request's id, method and route and answered with a generic 500, so internals never reach a
 * client.
 */
export function registerErrorHandling(app: FastifyInstance, options: { bodyLimit: number }): void {
  app.setErrorHandler((error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    const answer = clientFacing(error, options.bodyLimit);
    if (answer) {
      if (answer.status >= 500) request.log.error({ err: error, method: request.method, route: request.routeOptions.url }, 'request failed');
      return reply.code(answer.status).send(bodyOf(answer));
    }
    request.log.error({ err: error, method: request.method, route: request.routeOptions.url }, 'request failed');
    const internal = new AgentGuardError('INTERNAL', 'The sidecar failed to handle this request; the details are in its log.', {
      actions: ['Read the sidecar log (`agentguard sidecar logs`) for this request, and report it at the project issue tracker.'],
    });
    return reply.code(internal.status).send(internal.toBody());
  });

  app.setNotFoundHandler((request: FastifyRequest, reply: FastifyReply) => {
    const error = new AgentGuardError('NOT_FOUND', `no route ${request.method.slice(0, 16)} ${loggedPath(request.url)}`);
    reply.code(error.status).send(bodyOf(error));
  });
}
