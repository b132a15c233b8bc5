import { createServer, request as httpRequest, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { failedDecider } from '../src/mcp/decider.js';
import { startHttpGateway } from '../src/mcp/http/gateway.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

describe('mcp proxy shutdown', () => {
  it('ends the upstream request of an open SSE stream when the gateway closes, so the process can exit', async () => {
    let upstreamClosed!: () => void;
    const closed = new Promise<void>((resolve) => (upstreamClosed = resolve));
    let opened!: () => void;
    const streamOpen = new Promise<void>((resolve) => (opened = resolve));
    // An upstream whose GET stream never ends by itself, as an MCP server's standalone SSE stream.
    const upstream = createServer((request: IncomingMessage, response) => {
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      response.write(': open\n\n');
      opened();
      request.socket.on('close', () => upstreamClosed());
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    cleanups.push(
      () =>
        new Promise<void>((resolve) => {
          upstream.close(() => resolve());
          upstream.closeAllConnections();
        }),
    );
    const url = new URL(`http://127.0.0.1:${(upstream.address() as AddressInfo).port}/mcp`);
    const gateway = await startHttpGateway({ server: 'remote', upstream: url, decider: failedDecider('x', 'unused'), approvalWaitMs: 0, log: () => undefined });
    let closedGateway = false;
    cleanups.push(() => (closedGateway ? Promise.resolve() : gateway.close()));

    const client = httpRequest(gateway.url, { method: 'GET', headers: { accept: 'text/event-stream' } });
    client.on('error', () => undefined);
    const relayed = new Promise<void>((resolve) => client.on('response', (response) => (response.resume(), resolve())));
    client.end();
    await streamOpen;
    await relayed;

    await gateway.close();
    closedGateway = true;
    // Without the gateway ending it, the upstream connection stays open as long as the server keeps the stream.
    await expect(closed).resolves.toBeUndefined();
  });
});
