import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { registerHostCheck } from '../src/sidecar/plugins/host-check.js';

const apps: FastifyInstance[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()));
});

async function appAllowing(names: string[]): Promise<FastifyInstance> {
  const app = Fastify();
  registerHostCheck(app, names);
  app.setErrorHandler((error, _request, reply) => reply.code(421).send({ code: (error as { code?: string }).code }));
  app.get('/x', async () => ({ ok: true }));
  await app.ready();
  apps.push(app);
  return app;
}

const get = (app: FastifyInstance, host: string) => app.inject({ method: 'GET', url: '/x', headers: { host } });

describe('host check: Host values are parsed once, and each app still answers only to its own names', () => {
  it('a value another app allowed (and remembered) is still refused by an app that does not allow it', async () => {
    const local = await appAllowing(['localhost']);
    const other = await appAllowing(['other.test']);
    for (let i = 0; i < 3; i++) {
      expect((await get(local, 'localhost:7777')).statusCode).toBe(200);
      expect((await get(other, 'localhost:7777')).statusCode).toBe(421);
      expect((await get(other, 'OTHER.test')).statusCode).toBe(200);
      expect((await get(local, 'OTHER.test')).statusCode).toBe(421);
    }
  });

  it('refuses made-up names every time, however many are sent', async () => {
    const local = await appAllowing(['localhost']);
    for (let i = 0; i < 200; i++) expect((await get(local, `evil-${i % 7}.test`)).statusCode).toBe(421);
    expect((await get(local, 'localhost')).statusCode).toBe(200);
  });
});
