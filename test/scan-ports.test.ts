import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, rm, symlink } from 'node:fs/promises';
import { createServer as createHttpServer, type RequestListener, type Server } from 'node:http';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { listeningSockets, parseLsof, parseNetstat, parseProcNetTcp } from '../src/scan/ports.js';
import { scanServers } from '../src/scan/probes.js';
import type { ScanOptions } from '../src/scan/types.js';
import { FIXTURES } from './fixtures/scan/processes/index.js';

let tmp: string;
const closers: Array<() => Promise<void>> = [];

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'ag-scan-ports-'));
});
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

const options = (extra: Partial<ScanOptions> = {}): ScanOptions => ({
  home: join(tmp, 'home'),
  paths: [],
  probe: true,
  platform: 'linux',
  procRoot: '/proc',
  probeTimeoutMs: 300,
  ...extra,
});

/** An HTTP server on a random loopback port, closed after the test. */
async function serve(handler: RequestListener): Promise<number> {
  const server: Server = createHttpServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(() => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))));
  return (server.address() as AddressInfo).port;
}

const json = (res: Parameters<RequestListener>[1], status: number, body: unknown, headers: Record<string, string> = {}) => {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
};

const fakeOllama: RequestListener = (req, res) =>
  req.url === '/api/tags'
    ? json(res, 200, { models: [{ name: 'llama3.2:3b', size: 1 }, { name: 'qwen2.5:7b', size: 2 }, { name: 'nomic-embed-text:latest', size: 3 }] })
    : json(res, 404, { error: 'not found' });
const plainWeb: RequestListener = (_req, res) => {
  res.writeHead(200, { 'content-type': 'text/plain' });
  res.end('hello');
};

describe('listening sockets', () => {
  it('parses /proc/net/tcp and tcp6 of a fixture procRoot and maps socket inodes to pids', async () => {
    const root = join(tmp, 'proc');
    await mkdir(join(root, 'net'), { recursive: true });
    await copyFile(join(FIXTURES, 'net-tcp.txt'), join(root, 'net', 'tcp'));
    await copyFile(join(FIXTURES, 'net-tcp6.txt'), join(root, 'net', 'tcp6'));
    for (const [pid, fd, inode] of [[500, 3, 1001], [501, 7, 1002], [501, 8, 2002], [502, 4, 2001], [502, 5, 2003], [503, 1, 999]]) {
      await mkdir(join(root, String(pid), 'fd'), { recursive: true });
      await symlink(`socket:[${inode}]`, join(root, String(pid), 'fd', String(fd)));
    }
    await symlink('/dev/null', join(root, '503', 'fd', '0'));

    const { sockets, skipped } = await listeningSockets(options({ procRoot: root }));
    expect(sockets).toEqual([
      { host: '127.0.0.1', port: 11428, inode: 1001, pid: 500 },
      { host: '0.0.0.0', port: 8080, inode: 1002, pid: 501 },
      { host: '10.0.0.5', port: 22, inode: 1003, pid: undefined },
      { host: '::1', port: 8081, inode: 2001, pid: 502 },
      { host: '::', port: 11429, inode: 2002, pid: 501 },
      { host: '127.0.0.1', port: 8082, inode: 2003, pid: 502 },
    ]);
    expect(skipped).toEqual([
      { what: 'owner process of 1 listening socket (port 22)', reason: 'no visible process holds the socket (it belongs to the kernel or another namespace)' },
    ]);

    const limited = await listeningSockets(options({ procRoot: root, pids: [502] }));
    expect(limited.sockets.map((s) => s.port)).toEqual([8081, 8082]);
  });

  it('parses lsof -F and netstat -ano output', async () => {
    expect(parseLsof(await readFile(join(FIXTURES, 'lsof.txt'), 'utf8'))).toEqual([
      { host: '127.0.0.1', port: 11434, pid: 812, process: 'Ollama' },
      { host: '::', port: 3000, pid: 913, process: 'node' },
      { host: '0.0.0.0', port: 3000, pid: 913, process: 'node' },
      { host: '::1', port: 8000, pid: 1020, process: 'python3.12' },
    ]);
    expect(parseNetstat(await readFile(join(FIXTURES, 'netstat.txt'), 'utf8'))).toEqual([
      { host: '0.0.0.0', port: 135, pid: 1040 },
      { host: '127.0.0.1', port: 11434, pid: 7788 },
      { host: '::1', port: 1234, pid: 4321 },
    ]);
    expect(parseProcNetTcp('header\n')).toEqual([]);
  });

  it.runIf(process.platform === 'linux')('finds a real loopback server of this process through /proc, with this pid', async () => {
    const port = await serve(plainWeb);
    const { sockets } = await listeningSockets(options({ pids: [process.pid] }));
    expect(sockets).toContainEqual(expect.objectContaining({ host: '127.0.0.1', port, pid: process.pid }));
  });

  it.runIf(existsSync('/usr/bin/lsof') || existsSync('/usr/sbin/lsof'))('finds the same server through lsof, as on macOS', async () => {
    const port = await serve(plainWeb);
    const { sockets } = await listeningSockets(options({ platform: 'darwin', pids: [process.pid] }));
    expect(sockets).toContainEqual(expect.objectContaining({ host: '127.0.0.1', port, pid: process.pid }));
  });
});

describe('HTTP probes of model and agent servers', () => {
  it('confirms a fake Ollama by its /api/tags response and never reports a plain web server or a non-HTTP service', async () => {
    const ollama = await serve(fakeOllama);
    const web = await serve(plainWeb);
    const connections = new Set<import('node:net').Socket>();
    const tcp = createTcpServer((socket) => (connections.add(socket), socket.end('SSH-2.0-OpenSSH_9.6\r\n')));
    await new Promise<void>((resolve) => tcp.listen(0, '127.0.0.1', resolve));
    closers.push(() => new Promise<void>((resolve) => (connections.forEach((c) => c.destroy()), tcp.close(() => resolve()))));
    const ssh = (tcp.address() as AddressInfo).port;
    const progress: string[] = [];

    const result = await scanServers(options({ progress: (m) => progress.push(m) }), [
      { host: '127.0.0.1', port: ollama, pid: process.pid },
      { host: '127.0.0.1', port: web },
      { host: '127.0.0.1', port: ssh },
    ]);
    expect(result.skipped).toEqual([]);
    expect(result.findings).toHaveLength(1);
    const [finding] = result.findings;
    expect(finding).toMatchObject({
      id: `server:127.0.0.1:${ollama}`,
      kind: 'model-server',
      name: `Ollama on port ${ollama}`,
      status: 'unknown',
      risk: 'low',
      location: `127.0.0.1:${ollama}`,
      evidence: [`GET http://127.0.0.1:${ollama}/api/tags → 200 {"models":[3]}`, expect.stringMatching(/\/agentguard-scan-[0-9a-f]{12} → 404 /)],
    });
    expect(finding.details).toMatchObject({ port: ollama, boundAddress: '127.0.0.1', pid: process.pid, models: ['llama3.2:3b', 'qwen2.5:7b', 'nomic-embed-text:latest'] });
    expect(typeof finding.details.processName).toBe('string');
    expect(progress.at(-1)).toBe('probed 3 ports: 1 model servers, 0 agent servers, 2 not model or agent servers, 0 could not be probed');
  });

  it('rates a model server bound to all interfaces high, probing it on loopback', async () => {
    const ollama = await serve(fakeOllama);
    const result = await scanServers(options(), [{ host: '0.0.0.0', port: ollama }]);
    expect(result.findings[0]).toMatchObject({ id: `server:127.0.0.1:${ollama}`, risk: 'high', details: { boundAddress: '0.0.0.0' } });
    expect(result.findings[0].notes[0]).toContain('reachable from the network');
  });

  it('tells OpenAI-compatible servers apart and confirms agent servers by their API', async () => {
    const vllm = await serve((req, res) =>
      req.url === '/v1/models' ? json(res, 200, { object: 'list', data: [{ id: 'meta-llama/Llama-3.1-8B', object: 'model', owned_by: 'vllm' }] }) : json(res, 404, {}),
    );
    const generic = await serve((req, res) => (req.url === '/v1/models' ? json(res, 200, { object: 'list', data: [{ id: 'm1', object: 'model' }] }) : json(res, 404, {})));
    const flowise = await serve((req, res) => (req.url === '/api/v1/ping' ? (res.writeHead(200), res.end('pong')) : (res.writeHead(404), res.end('Cannot GET'))));
    const llamacpp = await serve((req, res) =>
      req.url === '/health' ? json(res, 200, { status: 'ok' }) : req.url === '/props' ? json(res, 200, { total_slots: 1, chat_template: '' }) : json(res, 404, {}),
    );
    const litellm = await serve((req, res) =>
      req.url === '/health/liveliness' ? json(res, 200, "I'm alive!") : json(res, 401, { error: { message: 'Authentication Error' } }),
    );
    const langflow = await serve((req, res) =>
      req.url === '/api/v1/version' ? json(res, 200, { version: '1.1.0', main_version: '1.1.0', package: 'Langflow' }) : json(res, 404, {}),
    );
    const n8n = await serve((req, res) =>
      req.url === '/healthz' ? json(res, 200, { status: 'ok' }) : req.url === '/rest/settings' ? json(res, 200, { data: { versionCli: '1.70.0' } }) : json(res, 404, {}),
    );
    const spa = await serve((_req, res) => (res.writeHead(200, { 'content-type': 'text/html' }), res.end('<!doctype html><title>Some app</title>')));
    const ports = [vllm, generic, flowise, llamacpp, litellm, langflow, n8n, spa];
    const result = await scanServers(options(), ports.map((port) => ({ host: '127.0.0.1', port })));
    const types = Object.fromEntries(result.findings.map((f) => [f.details.port, [f.kind, f.details.serverType]]));
    expect(types).toEqual({
      [vllm]: ['model-server', 'vLLM'],
      [generic]: ['model-server', 'OpenAI-compatible server'],
      [flowise]: ['agent-server', 'Flowise'],
      [llamacpp]: ['model-server', 'llama.cpp server'],
      [litellm]: ['agent-server', 'LiteLLM proxy'],
      [langflow]: ['agent-server', 'Langflow'],
      [n8n]: ['agent-server', 'n8n'],
    });
    expect(result.skipped).toEqual([]);
    expect(result.findings.find((f) => f.details.port === vllm)!.details.models).toEqual(['meta-llama/Llama-3.1-8B']);
    expect(result.findings.find((f) => f.details.port === flowise)!.evidence).toEqual([
      `GET http://127.0.0.1:${flowise}/api/v1/ping → 200 "pong"`,
      expect.stringMatching(/^GET http:\/\/127\.0\.0\.1:\d+\/agentguard-scan-[0-9a-f]{12} → 404 \(a path no API has/),
    ]);
  });

  it('records a server that never answers as a timed-out probe, and a closed port as refused', async () => {
    const silent = await serve(() => undefined);
    const closed = await serve(plainWeb);
    await closers.pop()!();
    const result = await scanServers(options(), [
      { host: '127.0.0.1', port: silent },
      { host: '127.0.0.1', port: closed },
    ]);
    expect(result.findings).toEqual([]);
    expect(result.skipped).toHaveLength(2);
    expect(result.skipped).toContainEqual({ what: `port ${silent}`, reason: `probe timed out after 300 ms (GET http://127.0.0.1:${silent}/api/tags)` });
    expect(result.skipped).toContainEqual({
      what: `port ${closed}`,
      reason: `connection refused (GET http://127.0.0.1:${closed}/api/tags): the port closed before it could be probed`,
    });
  });

  it('probes nothing with probes off or off loopback, and says so', async () => {
    const ollama = await serve(fakeOllama);
    const off = await scanServers(options({ probe: false }), [{ host: '127.0.0.1', port: ollama }, { host: '::', port: ollama }, { host: '127.0.0.1', port: 1 }]);
    expect(off).toEqual({
      findings: [],
      skipped: [{ what: '2 listening ports', reason: 'not probed: probes were turned off (--no-probe), so model and agent servers are not confirmed' }],
    });
    const remote = await scanServers(options(), [{ host: '10.1.2.3', port: 9 }]);
    expect(remote).toEqual({ findings: [], skipped: [{ what: '1 port bound to non-loopback addresses only (10.1.2.3:9)', reason: 'not probed: only loopback is probed' }] });
  });
});
