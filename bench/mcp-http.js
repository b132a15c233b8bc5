/**
 * Bench section: what `agentguard mcp proxy` adds to one MCP tools/call over Streamable HTTP. A real MCP client (the
 * SDK's Client over Streamable HTTP) calls the same real server (the SDK's McpServer, hosted in this process) directly
 * and through `agentguard mcp proxy` (a separate process, policy only, audit on), and over stdio through `agentguard
 * mcp wrap --upstream` to the same server, side by side in alternating rounds.
 * Added latency is the proxy's percentile minus the direct one.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { timeSideBySide } from './lib/mcp-calls.js';

export const id = 'mcp-http';
export const title = 'MCP gateway: added latency per tools/call (Streamable HTTP, audit on)';

const BIN = fileURLToPath(new URL('../bin/run.js', import.meta.url));
const PASSTHROUGH = fileURLToPath(new URL('./lib/http-passthrough.js', import.meta.url));
const POLICY = `version: 1
name: bench-mcp-http
default: deny
rules:
  - id: tools
    effect: allow
    when: { kind: mcp, name: { glob: "bench.*" } }
  - id: results
    effect: allow
    when: { kind: mcp_output }
`;

function readBody(request) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    request.on('data', (chunk) => chunks.push(chunk));
    request.on('end', () => resolve(chunks.length === 0 ? undefined : JSON.parse(Buffer.concat(chunks).toString('utf8'))));
    request.on('error', reject);
  });
}

/** The SDK's McpServer over Streamable HTTP (sessions, SSE answers) on a free loopback port. */
async function startServer() {
  const transports = new Map();
  const http = createServer((request, response) => {
    void (async () => {
      const body = request.method === 'POST' ? await readBody(request) : undefined;
      let transport = transports.get(request.headers['mcp-session-id']);
      if (!transport) {
        if (!isInitializeRequest(body)) return void response.writeHead(400).end();
        transport = new StreamableHTTPServerTransport({ sessionIdGenerator: () => randomUUID(), onsessioninitialized: (sid) => transports.set(sid, transport) });
        const server = new McpServer({ name: 'bench', version: '1.0.0' });
        server.registerTool('echo', { description: 'Echoes the text.', inputSchema: { text: z.string() } }, async ({ text }) => ({ content: [{ type: 'text', text }] }));
        await server.connect(transport);
      }
      await transport.handleRequest(request, response, body);
    })().catch(() => response.headersSent || response.writeHead(500).end());
  });
  await new Promise((resolve) => http.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${http.address().port}/mcp`,
    close: async () => {
      for (const transport of transports.values()) await transport.close();
      await new Promise((resolve) => {
        http.close(resolve);
        http.closeAllConnections();
      });
    },
  };
}

/** Starts a proxy process and resolves with the process and the endpoint it prints first on stdout. */
function startProcess(args, cwd) {
  const child = spawn(process.execPath, args, { cwd, stdio: ['ignore', 'pipe', 'ignore'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk.toString('utf8');
      if (out.includes('\n')) resolve({ child, url: out.split('\n')[0] });
    });
    child.once('exit', (code) => reject(new Error(`mcp proxy exited with ${code}`)));
  });
}

async function connect(url, transport = new StreamableHTTPClientTransport(new URL(url))) {
  const client = new Client({ name: 'bench', version: '1.0.0' });
  await client.connect(transport);
  await client.listTools(); // as clients do first; through the proxy this pins the tools
  return client;
}

const startProxy = (upstream, cwd, policyFile) => startProcess([BIN, 'mcp', 'proxy', '--name', 'bench', '--upstream', upstream, '--port', '0', '--policy', policyFile], cwd);

async function stop(proc) {
  if (!proc || proc.child.exitCode !== null) return;
  proc.child.kill('SIGTERM');
  await new Promise((resolve) => proc.child.once('exit', resolve));
}

export async function run({ log }) {
  const dir = mkdtempSync(join(tmpdir(), 'agentguard-bench-mcp-http-'));
  const policyFile = join(dir, 'policy.yaml');
  writeFileSync(policyFile, POLICY);
  const server = await startServer();
  let proxy;
  let floor;
  const clients = [];
  try {
    proxy = await startProxy(server.url, dir, policyFile);
    floor = await startProcess([PASSTHROUGH, server.url], dir);
    const setups = [
      { label: 'direct (no gateway)', url: server.url },
      { label: 'bare HTTP pass-through process (floor: the extra hop alone)', url: floor.url },
      { label: 'mcp proxy, policy only', url: proxy.url },
      // The client speaks stdio to `mcp wrap --upstream`, which reaches the server over Streamable HTTP.
      { label: 'mcp wrap --upstream (stdio client), policy only', url: server.url, stdio: [BIN, 'mcp', 'wrap', '--name', 'bench', '--policy', policyFile, '--upstream', server.url] },
    ];
    for (const setup of setups) {
      setup.client = await connect(setup.url, setup.stdio ? new StdioClientTransport({ command: process.execPath, args: setup.stdio, cwd: dir, stderr: 'ignore' }) : undefined);
      clients.push(setup.client);
    }
    const { table, rounds, callsPerRound, summaries } = await timeSideBySide(setups, log);
    const overFloor = summaries[2].p50 - summaries[1].p50;
    const wrapAdded = summaries[3].p50 - summaries[0].p50;
    const markdown = [
      table,
      '',
      `Over the bare pass-through (the floor of one more HTTP hop, measured in the same rounds), the proxy adds ${(overFloor / 1000).toFixed(2)} ms p50: its decisions, audit records and SSE checking. \`mcp wrap --upstream\` (the client on stdio, the gateway's own HTTP connection to the server) adds ${(wrapAdded / 1000).toFixed(2)} ms p50 over the direct call.`,
      '',
      `Sequential tools/call of one small text tool over Streamable HTTP (SSE answers), ${rounds} alternating rounds of ${callsPerRound} calls each; every proxied call is one more HTTP hop plus two recorded decisions (the call, its result) and one recorded outcome.`,
    ].join('\n');
    return { markdown, failures: [] };
  } finally {
    for (const client of clients) await client.close().catch(() => {});
    await stop(proxy);
    await stop(floor);
    await server.close();
    rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
  }
}
