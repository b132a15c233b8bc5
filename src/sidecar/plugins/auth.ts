import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { TokenAttributes } from '../../core/tokens/attributes.js';
import type { TokenScope } from '../../core/tokens/scope.js';
import { AgentGuardError } from '../../core/errors.js';
import type { SidecarMetrics } from './metrics.js';

export type { TokenScope };

/** A token that authenticated; never holds the secret itself. */
export interface AuthenticatedToken {
  id: string;
  scope: TokenScope;
  /** The Action fields an agent token vouches for (see bindAttributes); absent when none. */
  attributes?: TokenAttributes;
}

/** The answer of an Authenticate function. `reason` is a short snake_case word (missing, invalid, revoked…). */
export type AuthResult = { ok: true; token: AuthenticatedToken } | { ok: false; reason: string };

/**
 * Checks the raw `Authorization` header (undefined when absent) against the token store. Injected, so the app does
 * not depend on how tokens are stored; it must compare secrets in constant time. Throwing or rejecting means the
 * store could not be read (answered with 503), not that the token is bad. A result may be returned directly (a cached
 * token): the request then goes on without waiting for a promise.
 */
export type Authenticate = (authorizationHeader: string | undefined) => AuthResult | Promise<AuthResult>;

/**
 * Who may call a route: `none` (health, metrics, docs, and callbacks that carry their own signature), `token` (agent
 * or admin tokens; routes then check the agent themselves), `approver` (approver or admin tokens; routes then check
 * the approver), `any` (all three), `admin`, `optional` (open, but a valid token is read so the route can say more to
 * it; an invalid one is ignored, never a 401). A `/v1` route that declares nothing needs admin: a forgotten
 * declaration fails closed.
 */
export type RouteAuth = 'none' | 'optional' | 'token' | 'approver' | 'any' | 'admin';

const ALLOWED: Record<Exclude<RouteAuth, 'none' | 'optional'>, ReadonlySet<TokenScope['kind']>> = {
  token: new Set(['admin', 'agent']),
  approver: new Set(['admin', 'approver']),
  any: new Set(['admin', 'agent', 'approver']),
  admin: new Set(['admin']),
};

declare module 'fastify' {
  interface FastifyContextConfig {
    auth?: RouteAuth;
  }
  interface FastifyRequest {
    /** The token of the request; set on every route that needs one, null elsewhere. */
    token: AuthenticatedToken | null;
  }
}

const FORBIDDEN: Record<Exclude<RouteAuth, 'none' | 'optional'>, string> = {
  token: 'this route needs an agent or admin token (`agentguard token create --agent <id>`)',
  approver: 'this route needs an approver or admin token (`agentguard token create --approver <name>`)',
  any: 'this route needs a token',
  admin: 'this route needs an admin token (`agentguard token create --admin`)',
};

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

/** The agent a token is bound to, or undefined for admin tokens. Throws for approver tokens, which act for no agent. */
export function agentOf(token: AuthenticatedToken): string | undefined {
  if (token.scope.kind === 'admin') return undefined;
  if (token.scope.kind === 'agent') return token.scope.agentId;
  throw new AgentGuardError('FORBIDDEN', 'an approver token cannot act for an agent');
}

/** The approver a token is bound to, or undefined for admin tokens. Throws for agent tokens. */
export function approverOf(token: AuthenticatedToken): string | undefined {
  if (token.scope.kind === 'admin') return undefined;
  if (token.scope.kind === 'approver') return token.scope.approver;
  throw new AgentGuardError('FORBIDDEN', 'an agent token cannot decide approvals');
}

/**
 * Authenticates every request to a route that needs it, before its body is read: 401 for a missing, invalid or
 * revoked token (with `WWW-Authenticate: Bearer`), 403 for a token whose scope the route does not take, 503 when the token store
 * cannot be read. Failures are counted by reason.
 */
export function registerAuth(app: FastifyInstance, options: { authenticate: Authenticate; metrics: SidecarMetrics }): void {
  app.decorateRequest('token', null);
  /** The error to answer for `result` on a route that needs `auth`, or undefined when the request may go on. */
  const refusal = (request: FastifyRequest, reply: FastifyReply, auth: Exclude<RouteAuth, 'none' | 'optional'>, header: string | undefined, result: AuthResult): AgentGuardError | undefined => {
    if (!result.ok) {
      options.metrics.authFailed(header === undefined ? 'missing' : result.reason);
      reply.header('www-authenticate', 'Bearer');
      return header === undefined
        ? new AgentGuardError('UNAUTHORIZED', 'this route needs a token: send `Authorization: Bearer <token>` (create one with `agentguard token create`)')
        : result.reason === 'not_bearer'
          ? new AgentGuardError('UNAUTHORIZED', 'the Authorization header must use the Bearer scheme: `Authorization: Bearer <token>`')
          : new AgentGuardError('UNAUTHORIZED', 'the bearer token is invalid or revoked');
    }
    if (!ALLOWED[auth].has(result.token.scope.kind)) {
      options.metrics.authFailed('scope');
      return new AgentGuardError('FORBIDDEN', FORBIDDEN[auth]);
    }
    request.token = result.token;
    return undefined;
  };
  const unavailable = (request: FastifyRequest, error: unknown): AgentGuardError => {
    request.log.error({ err: error }, 'the token store could not be read');
    return new AgentGuardError('AUTH_UNAVAILABLE', 'tokens cannot be checked right now; try again shortly');
  };
  // A callback hook, not an async one: a cached token is checked without a promise per request.
  app.addHook('onRequest', (request, reply, done) => {
    const auth = requiredAuth(request);
    if (auth === 'none') return done();
    const header = request.headers.authorization;
    if (auth === 'optional' && header === undefined) return done();
    let answer: AuthResult | PromiseLike<AuthResult>;
    try {
      answer = options.authenticate(header);
    } catch (error) {
      return auth === 'optional' ? done() : done(unavailable(request, error));
    }
    if (auth === 'optional') {
      // Open routes: a valid token is read so the route can say more to it; anything else is ignored, never a 401.
      const read = (result: AuthResult) => {
        if (result?.ok) request.token = result.token;
        done();
      };
      if (isPromiseLike(answer)) answer.then(read, () => done());
      else read(answer);
      return;
    }
    const decide = (result: AuthResult) => {
      let error: Error | undefined;
      try {
        error = refusal(request, reply, auth, header, result);
      } catch (thrown) {
        // An Authenticate that answered something else than an AuthResult: a 500, as any other failure.
        error = thrown as Error;
      }
      done(error);
    };
    if (isPromiseLike(answer)) answer.then(decide, (error: unknown) => done(unavailable(request, error)));
    else decide(answer);
  });
}

function isPromiseLike<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}
