import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { scanServers } from '../src/scan/probes.js';
import type { ScanOptions } from '../src/scan/types.js';

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
});

async function serve(handler: RequestListener): Promise<number> {
  const server: Server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(() => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))));
  return (server.address() as AddressInfo).port;
}

const options: ScanOptions = { home: '/nonexistent', paths: [], probe: true, platform: 'linux', procRoot: '/proc', probeTimeoutMs: 1000 };
const json = (res: Parameters<RequestListener>[1], status: number, body: unknown) => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
};

describe('a model or agent server is confirmed by two probes whose answers differ as the real API would', () => {
  it('never reports a catch-all server that answers 200 everywhere', async () => {
    const ports = [
      // The same model list at every path.
      await serve((_req, res) => json(res, 200, { models: [{ name: 'llama3' }], object: 'list', data: [{ id: 'x' }] })),
      // Every answer differs (it echoes the path), so identical bodies do not give it away.
      await serve((req, res) => json(res, 200, { models: [{ name: 'llama3' }], path: req.url })),
      await serve((req, res) => json(res, 200, { object: 'list', data: [{ id: 'gpt' }], path: req.url })),
      await serve((req, res) => json(res, 200, { status: 'ok', total_slots: 1, path: req.url })),
      await serve((req, res) => (res.writeHead(200, { 'content-type': 'text/plain' }), res.end(req.url === '/api/v1/ping' ? 'pong' : 'pong\n'))),
      await serve((req, res) => json(res, 200, { version: '1.0', main_version: '1.0', package: 'Langflow', path: req.url })),
      await serve((req, res) => (res.writeHead(200, { 'content-type': 'text/plain' }), res.end(`I'm alive at ${req.url}`))),
    ];
    const result = await scanServers(options, ports.map((port) => ({ host: '127.0.0.1', port })));
    expect(result.findings).toEqual([]);
    expect(result.skipped).toEqual([]);
  });

  it('confirms real APIs, including one that answers unknown paths 200 with an error, and says how', async () => {
    const ollama = await serve((req, res) => (req.url === '/api/tags' ? json(res, 200, { models: [{ name: 'llama3.2:3b' }] }) : (res.writeHead(404), res.end('404 page not found'))));
    // LM Studio answers unknown endpoints with 200 and an error object.
    const lmStudio = await serve((req, res) =>
      req.url === '/v1/models'
        ? json(res, 200, { object: 'list', data: [{ id: 'qwen', object: 'model', owned_by: 'organization_owner' }] })
        : json(res, 200, { error: `Unexpected endpoint or method. (GET ${req.url})` }),
    );
    // A web app that serves its page for any unknown path.
    const flowise = await serve((req, res) => (req.url === '/api/v1/ping' ? (res.writeHead(200), res.end('pong')) : (res.writeHead(200, { 'content-type': 'text/html' }), res.end('<!doctype html><title>Flowise</title>'))));
    const result = await scanServers(options, [ollama, lmStudio, flowise].map((port) => ({ host: '127.0.0.1', port })));
    const byPort = new Map(result.findings.map((f) => [f.details.port, f]));
    expect(byPort.get(ollama)?.details.serverType).toBe('Ollama');
    expect(byPort.get(lmStudio)?.details.serverType).toBe('LM Studio');
    expect(byPort.get(flowise)?.details.serverType).toBe('Flowise');
    expect(byPort.get(ollama)!.evidence.at(-1)).toMatch(new RegExp(`^GET http://127\\.0\\.0\\.1:${ollama}/agentguard-scan-[0-9a-f]{12} → 404 \\(a path no API has is answered differently`));
    expect(byPort.get(lmStudio)!.evidence.at(-1)).toMatch(/→ 200 \(a path no API has is answered differently/);
  });
});
