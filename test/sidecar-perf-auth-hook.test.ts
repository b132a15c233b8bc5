import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { registerAuth, type Authenticate, type AuthResult } from '../src/sidecar/plugins/auth.js';
import { registerErrorHandling } from '../src/sidecar/plugins/errors.js';
import { SidecarMetrics } from '../src/sidecar/plugins/metrics.js';

const apps: FastifyInstance[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()));
});

const AGENT: AuthResult = { ok: true, token: { id: 'tok_a', scope: { kind: 'agent', agentId: 'bot' } } };
const APPROVER: AuthResult = { ok: true, token: { id: 'tok_p', scope: { kind: 'approver', approver: 'ann' } } };

async function appWith(authenticate: Authenticate): Promise<FastifyInstance> {
  const app = Fastify();
  registerErrorHandling(app, { bodyLimit: 1024 });
  registerAuth(app, { authenticate, metrics: new SidecarMetrics() });
  app.get('/v1/thing', { config: { auth: 'token' } }, async (request) => ({ token: request.token?.id }));
  app.get('/v1/open', { config: { auth: 'optional' } }, async (request) => ({ token: request.token?.id ?? null }));
  await app.ready();
  apps.push(app);
  return app;
}

const get = (app: FastifyInstance, url: string, authorization?: string) =>
  app.inject({ method: 'GET', url, headers: authorization === undefined ? {} : { authorization } });

// The same answers whether Authenticate returns its result at once (a cached token) or as a promise.
const styles: Record<string, (result: () => AuthResult) => Authenticate> = {
  'at once': (result) => () => result(),
  'as a promise': (result) => async () => result(),
};

describe.each(Object.keys(styles))('auth hook, Authenticate answering %s', (style) => {
  const make = styles[style];

  it('lets a token of the right scope through, and the route reads it', async () => {
    const app = await appWith(make(() => AGENT));
    const response = await get(app, '/v1/thing', 'Bearer x');
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ token: 'tok_a' });
  });

  it('401 with WWW-Authenticate for a bad token or none, 403 for the wrong scope', async () => {
    const bad = await appWith(make(() => ({ ok: false, reason: 'unknown' })));
    const refused = await get(bad, '/v1/thing', 'Bearer x');
    expect(refused.statusCode).toBe(401);
    expect(refused.headers['www-authenticate']).toBe('Bearer');
    expect(refused.json().error.message).toContain('invalid or revoked');
    const none = await get(bad, '/v1/thing');
    expect(none.statusCode).toBe(401);
    expect(none.json().error.message).toContain('needs a token');
    const wrongScope = await appWith(make(() => APPROVER));
    expect((await get(wrongScope, '/v1/thing', 'Bearer x')).json().error.code).toBe('FORBIDDEN');
  });

  it('503 AUTH_UNAVAILABLE when the token store cannot be read; open routes ignore it', async () => {
    const failing = await appWith(
      style === 'at once'
        ? () => {
            throw new Error('database is locked');
          }
        : async () => {
            throw new Error('database is locked');
          },
    );
    const response = await get(failing, '/v1/thing', 'Bearer x');
    expect(response.statusCode).toBe(503);
    expect(response.json().error.code).toBe('AUTH_UNAVAILABLE');
    expect(JSON.stringify(response.json())).not.toContain('database is locked');
    const open = await get(failing, '/v1/open', 'Bearer x');
    expect(open.statusCode).toBe(200);
    expect(open.json()).toEqual({ token: null });
  });

  it('an open route reads a valid token, and never answers 401 for a bad one', async () => {
    expect((await get(await appWith(make(() => AGENT)), '/v1/open', 'Bearer x')).json()).toEqual({ token: 'tok_a' });
    const bad = await appWith(make(() => ({ ok: false, reason: 'unknown' })));
    const response = await get(bad, '/v1/open', 'Bearer x');
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ token: null });
  });

  it('an answer that is not an AuthResult fails the request (500), not the process', async () => {
    const broken = await appWith(make(() => null as unknown as AuthResult));
    const response = await get(broken, '/v1/thing', 'Bearer x');
    expect(response.statusCode).toBe(500);
    expect(response.json().error.code).toBe('INTERNAL');
  });
});
