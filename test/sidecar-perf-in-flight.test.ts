import Fastify, { type FastifyInstance } from 'fastify';
import { Agent, request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { registerInFlight } from '../src/sidecar/app.js';
import { SidecarMetrics } from '../src/sidecar/plugins/metrics.js';

const apps: FastifyInstance[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()));
});

/** The gauge's current value. */
async function inFlight(metrics: SidecarMetrics): Promise<number> {
  return (await metrics.inFlight.get()).values[0]?.value ?? 0;
}

async function until(check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 500 && !(await check()); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  expect(await check()).toBe(true);
}

/** A listening app whose /slow route answers when `release()` is called, and whose /fast and /fail routes answer at once. */
async function slowApp() {
  const metrics = new SidecarMetrics();
  const app = Fastify();
  registerInFlight(app, metrics);
  const waiting: (() => void)[] = [];
  let started = 0;
  app.get('/slow', async () => {
    started++;
    await new Promise<void>((resolve) => waiting.push(resolve));
    return { ok: true };
  });
  app.get('/fast', async () => ({ ok: true }));
  app.get('/fail', async () => {
    throw new Error('boom');
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  apps.push(app);
  const port = (app.server.address() as { port: number }).port;
  return { app, metrics, port, started: () => started, release: () => waiting.splice(0).forEach((resolve) => resolve()) };
}

function get(port: number, path: string): { done: Promise<number>; abort: () => void } {
  let abort = () => {};
  const done = new Promise<number>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    abort = () => req.destroy();
    req.end();
  });
  return { done, abort };
}

describe('requests in flight: counted up when a request arrives, down once when its response closes', () => {
  it('answered, failed and aborted requests all leave the gauge at 0', async () => {
    const { metrics, port, started, release } = await slowApp();
    expect(await get(port, '/fast').done).toBe(200);
    expect(await get(port, '/fail').done).toBe(500);
    expect(await get(port, '/nowhere').done).toBe(404);
    await until(async () => (await inFlight(metrics)) === 0);

    const slow = [get(port, '/slow'), get(port, '/slow'), get(port, '/slow')];
    await until(async () => started() === 3);
    expect(await inFlight(metrics)).toBe(3);

    // A client that goes away before its answer is counted down without waiting for the handler.
    const aborted = slow[0];
    aborted.done.catch(() => {});
    aborted.abort();
    await until(async () => (await inFlight(metrics)) === 2);

    release();
    expect(await slow[1].done).toBe(200);
    expect(await slow[2].done).toBe(200);
    await until(async () => (await inFlight(metrics)) === 0);
    // Nothing counts it down a second time (the aborted handler's late answer included).
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await inFlight(metrics)).toBe(0);
  });

  it('requests one after the other on a keep-alive connection are each counted down once', async () => {
    const { metrics, port } = await slowApp();
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      for (let i = 0; i < 20; i++) {
        const status = await new Promise<number>((resolve, reject) => {
          request({ host: '127.0.0.1', port, path: '/fast', agent }, (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode ?? 0));
          })
            .on('error', reject)
            .end();
        });
        expect(status).toBe(200);
      }
      await until(async () => (await inFlight(metrics)) === 0);
    } finally {
      agent.destroy();
    }
  });

  it('requests answered through inject are counted down too', async () => {
    const { app, metrics } = await slowApp();
    for (let i = 0; i < 5; i++) expect((await app.inject({ method: 'GET', url: '/fast' })).statusCode).toBe(200);
    expect(await inFlight(metrics)).toBe(0);
  });
});
