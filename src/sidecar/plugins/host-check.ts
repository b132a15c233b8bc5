import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AgentGuardError } from '../../core/errors.js';
import { LRUCache } from 'lru-cache';

/** Host names a sidecar bound to loopback answers to: what local clients put in `Host`, and nothing a web page can choose. */
export const LOOPBACK_HOST_NAMES = ['localhost', '127.0.0.1', '[::1]'] as const;

/**
 * The `Host` header split into a lower-case name and a port (undefined when absent); null when it is not `name` or
 * `name:port` (userinfo, paths, several values).
 */
export function parseHostHeader(value: string): { name: string; port: number | undefined } | null {
  const match = /^(\[[0-9a-f:.]+\]|[a-z0-9.-]+)(?::([0-9]{1,5}))?$/i.exec(value);
  if (!match) return null;
  return { name: match[1].toLowerCase(), port: match[2] === undefined ? undefined : Number(match[2]) };
}

/**
 * Refuses (421) requests whose `Host` is not one of `names`, on every route including the unknown ones, before
 * authentication. This is what stops DNS rebinding: a web page that makes `evil.example` resolve to 127.0.0.1 can reach
 * the port, but its requests carry `Host: evil.example`. A port, when given, must be the one the request came in on
 * (clients send it for any port but 80); a Host without port is accepted because no browser page can send one for
 * this port. A missing Host is refused too.
 */
export function registerHostCheck(app: FastifyInstance, names: readonly string[]): void {
  const allowed = new Set(names.map((n) => n.toLowerCase()));
  // A callback hook, not an async one: no promise per request (fastify passes a thrown error on as the request's).
  app.addHook('onRequest', (request, _reply, done) => {
    // Signed callbacks (Slack, webhooks) arrive through a tunnel or proxy under its public name; their signature, not
    // the caller's location, is what they are checked by, so a page cannot forge one by rebinding DNS either.
    if (request.routeOptions.config?.anyHost === true) return done();
    const problem = hostProblem(request, allowed);
    if (problem) {
      throw new AgentGuardError('MISDIRECTED_REQUEST', problem, {
        actions: [`Call the sidecar as http://${[...allowed][0]}:${request.socket?.localPort ?? '<port>'}, or start it with --host <address> --allow-remote to serve other names.`],
      });
    }
    done();
  });
}

/**
 * Host header values already parsed that named an allowed host (a client sends the same one on every request): parsed
 * once, not per request. Each app still checks the name against its own list; values it refused are not kept, so
 * requests with made-up names cannot fill this.
 */
const allowedHosts = new LRUCache<string, { name: string; port: number | undefined }>({ max: 64 });

function hostProblem(request: FastifyRequest, allowed: ReadonlySet<string>): string | undefined {
  const header = request.headers.host;
  if (typeof header !== 'string' || header === '') return 'the request has no Host header; this sidecar answers only to loopback names';
  const known = allowedHosts.get(header);
  const host = known ?? parseHostHeader(header);
  // The header is not echoed: it is whatever a web page chose.
  if (host === null || !allowed.has(host.name)) return `this sidecar listens on loopback and answers only to Host ${[...allowed].join(', ')}`;
  if (known === undefined) allowedHosts.set(header, host);
  const port = request.socket?.localPort;
  if (host.port !== undefined && typeof port === 'number' && host.port !== port) return `the Host header names port ${host.port}, but this sidecar listens on ${port}`;
  return undefined;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Answer under any Host even on loopback: only for routes that check a signature of their own. */
    anyHost?: boolean;
  }
}
