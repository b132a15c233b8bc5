import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { exchange, ExchangeError } from '../src/sdk/http-exchange.js';

const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

async function serve(handler: Parameters<typeof createServer>[1]): Promise<URL> {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/decide`);
}

const post = (url: URL, timeoutMs = 2000) => exchange(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":1}', timeoutMs });

describe("the SDK's HTTP exchange with the sidecar", () => {
  it('sends the body with its length and returns status, headers and the whole text', async () => {
    const url = await serve((request, response) => {
      let body = '';
      request.on('data', (chunk) => (body += chunk));
      request.on('end', () => response.writeHead(200, { 'x-seen-length': request.headers['content-length'] ?? '' }).end(`got ${body}`));
    });
    const answer = await post(url);
    expect(answer.status).toBe(200);
    expect(answer.header('X-Seen-Length')).toBe('7');
    expect(answer.text).toBe('got {"a":1}');
  });

  it('rejects an answer cut short (fewer bytes than its content-length) instead of returning part of it', async () => {
    const url = await serve((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
      response.write('{"effect":"al');
      setTimeout(() => response.socket?.destroy(), 20);
    });
    await expect(post(url)).rejects.toMatchObject({ name: 'NetworkError' });
  });

  it('rejects with TimeoutError when no whole answer comes in time', async () => {
    const url = await serve((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.write('{');
    });
    const error = await post(url, 150).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ExchangeError);
    expect((error as ExchangeError).name).toBe('TimeoutError');
  });

  it('does not follow a redirect: the 3xx is the answer', async () => {
    let redirected = 0;
    const target = await serve((_request, response) => {
      redirected += 1;
      response.writeHead(200).end('{}');
    });
    const url = await serve((_request, response) => response.writeHead(302, { location: target.href }).end());
    const answer = await post(url);
    expect(answer.status).toBe(302);
    expect(redirected).toBe(0);
  });

  it('names the network error of a refused connection', async () => {
    const url = await serve(() => undefined);
    servers[0]!.close();
    await new Promise((resolve) => setTimeout(resolve, 20));
    await expect(post(url)).rejects.toMatchObject({ name: 'NetworkError', cause: { code: 'ECONNREFUSED' } });
  });
});
