import type { FastifyInstance, FastifyRequest } from 'fastify';
import { HttpError } from './errors.js';
import type { SidecarMetrics } from './metrics.js';

/** What a token may do: everything (admin), or act and read as one agent. */
export type TokenScope = { kind: 'admin' } | { kind: 'agent'; agentId: string };

/** A token that authenticated; never holds the secret itself. */
export interface AuthenticatedToken {
  id: string;
  scope: TokenScope;
}

/** The answer of an Authenticate function. `reason` is a short snake_case word (missing, invalid, revoked…). */
export type AuthResult = { ok: true; token: AuthenticatedToken } | { ok: false; reason: string };

/**
 * Checks the raw `Authorization` header (undefined when absent) against the token store. Injected, so the app does
 * not depend on how tokens are stored; it must compare secrets in constant time. Throwing means the store could not be
 * read (answered with 503), not that the token is bad.
 */
export type Authenticate = (authorizationHeader: string | undefined) => Promise<AuthResult>;

/**
 * Who may call a route: `none` (health, metrics, docs), `token` (agent or admin tokens; routes then check the agent
 * themselves), `admin`. A `/v1` route that declares nothing needs admin: a forgotten declaration fails closed.
 */
export type RouteAuth = 'none' | 'token' | 'admin';

declare module 'fastify' {
  interface FastifyContextConfig {
    auth?: RouteAuth;
  }
  interface FastifyRequest {
    /** The token of the request; set on every route that needs one, null elsewhere. */
    token: AuthenticatedToken | null;
  }
}

function requiredAuth(request: FastifyRequest): RouteAuth {
  const declared = request.routeOptions.config?.auth;
  if (declared) return declared;
  return request.routeOptions.url?.startsWith('/v1/') ? 'admin' : 'none';
}

/** The token of a request on a route that requires one. */
export function tokenOf(request: FastifyRequest): AuthenticatedToken {
  if (!request.token) throw new Error(`route ${request.routeOptions.url} reads the token but does not require one`);
  return request.token;
}

/** The agent a token is bound to, or undefined for admin tokens. */
export function agentOf(token: AuthenticatedToken): string | undefined {
  return token.scope.kind === 'agent' ? token.scope.agentId : undefined;
}

/**
 * Authenticates every request to a route that needs it, before its body is read: 401 for a missing, invalid or
 * revoked token (with `WWW-Authenticate: Bearer`), 403 for an agent token on an admin route, 503 when the token store
 * cannot be read. Failures are counted by reason.
 */
export function registerAuth(app: FastifyInstance, options: { authenticate: Authenticate; metrics: SidecarMetrics }): void {
  app.decorateRequest('token', null);
  app.addHook('onRequest', async (request, reply) => {
    const auth = requiredAuth(request);
    if (auth === 'none') return;
    const header = request.headers.authorization;
    let result: AuthResult;
    try {
      result = await options.authenticate(header);
    } catch (error) {
      request.log.error({ err: error }, 'the token store could not be read');
      throw new HttpError(503, 'AUTH_UNAVAILABLE', 'tokens cannot be checked right now; try again shortly');
    }
    if (!result.ok) {
      options.metrics.authFailed(header === undefined ? 'missing' : result.reason);
      reply.header('www-authenticate', 'Bearer');
      throw header === undefined
        ? new HttpError(401, 'UNAUTHORIZED', 'this route needs a token: send `Authorization: Bearer <token>` (create one with `agentguard token create`)')
        : new HttpError(401, 'UNAUTHORIZED', 'the bearer token is invalid or revoked');
    }
    if (auth === 'admin' && result.token.scope.kind !== 'admin') {
      options.metrics.authFailed('scope');
      throw new HttpError(403, 'FORBIDDEN', 'this route needs an admin token (`agentguard token create --admin`)');
    }
    request.token = result.token;
  });
}
