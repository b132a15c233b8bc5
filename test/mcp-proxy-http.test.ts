import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterEach, describe, expect, it } from 'vitest';
import type { Action } from '../src/core/action.js';
import { openEngine } from '../src/core/engine/open-engine.js';
import { Policy } from '../src/core/policy/policy.js';
import { engineDecider, failedDecider, sidecarDecider, type McpDecider } from '../src/mcp/decider.js';
import { checkSidecarOptions, SidecarDecider } from '../src/sdk/sidecar-client.js';
import type { ToolListGuard } from '../src/mcp/hooks.js';
import { failedGuard } from '../src/mcp/open-guard.js';
import { startHttpGateway, type HttpGateway } from '../src/mcp/http/gateway.js';
import { startUpstream, type Upstream } from './fixtures/mcp-http/upstream.js';

const POLICY = Policy.parse({
  version: 1,
  name: 'mcp-http',
  default: 'deny',
  rules: [
    { id: 'no-delete', effect: 'deny', when: { kind: 'mcp', name: 'remote.delete_file' }, message: 'Deleting files through MCP is not allowed' },
    { id: 'rewrite', effect: 'transform', when: { kind: 'mcp', name: 'remote.echo', 'input.text': 'rewrite me' }, transform: [{ set: 'input.text', value: 'rewritten by policy' }] },
    { id: 'tools', effect: 'allow', when: { kind: 'mcp', name: { glob: 'remote.*' } } },
    { id: 'results', effect: 'allow', when: { kind: 'mcp_output' } },
    {
      id: 'mask-emails',
      effect: 'transform',
      when: { kind: 'mcp_output', detect: { guardrail: 'pii', in: 'input.content', types: ['EMAIL_ADDRESS'] } },
      transform: [{ redact: 'input.content', guardrail: 'pii', types: ['EMAIL_ADDRESS'], mode: 'mask' }],
    },
  ],
});
const SECRET = 'Bearer sk-upstream-secret-4711';

interface ToolResult {
  content: Array<{ type: string; text?: string }>;
  isError?: boolean;
}

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

interface Setup {
  upstream: Upstream;
  gateway: HttpGateway;
  client: Client;
  transport: StreamableHTTPClientTransport;
  actions: Action[];
  logs: string[];
  /** Content types of the proxy's answers to the client's POSTs. */
  contentTypes: string[];
}

async function recordingDecider(actions: Action[]): Promise<McpDecider> {
  const engine = await openEngine({ policy: POLICY, record: false });
  const decider = engineDecider(engine, () => undefined);
  cleanups.push(() => decider.close());
  return { ...decider, decide: (action) => (actions.push(action), decider.decide(action)) };
}

async function connect(options: { json?: boolean; decider?: McpDecider; guard?: ToolListGuard; onMessage?: (message: unknown) => void } = {}): Promise<Setup> {
  const upstream = await startUpstream({ json: options.json, ...(options.onMessage ? { onMessage: options.onMessage } : {}) });
  cleanups.push(() => upstream.close());
  const actions: Action[] = [];
  const logs: string[] = [];
  const gateway = await startHttpGateway({
    server: 'remote',
    upstream: new URL(upstream.url),
    decider: options.decider ?? (await recordingDecider(actions)),
    approvalWaitMs: 0,
    ...(options.guard ? { guard: options.guard } : {}),
    log: (message) => logs.push(message),
  });
  cleanups.push(() => gateway.close());
  const contentTypes: string[] = [];
  const transport = new StreamableHTTPClientTransport(new URL(gateway.url), {
    requestInit: { headers: { Authorization: SECRET } },
    fetch: async (url, init) => {
      const response = await fetch(url, init);
      if (init?.method === 'POST') contentTypes.push(response.headers.get('content-type') ?? '');
      return response;
    },
  });
  const client = new Client({ name: 'test-client', version: '1.0.0' });
  await client.connect(transport);
  cleanups.push(() => client.close());
  return { upstream, gateway, client, transport, actions, logs, contentTypes };
}

async function callTool(client: Client, name: string, args: Record<string, unknown> = {}): Promise<ToolResult> {
  return (await client.callTool({ name, arguments: args })) as ToolResult;
}

describe('mcp proxy (Streamable HTTP), a real MCP client and server through the gateway', () => {
  it('passes an allowed call through and returns the result unchanged (SSE responses)', async () => {
    const { client, upstream, contentTypes } = await connect();
    const result = await callTool(client, 'echo', { text: 'hello through the proxy' });
    expect(result).toEqual({ content: [{ type: 'text', text: 'hello through the proxy' }] });
    expect(upstream.calls.get('echo')).toBe(1);
    expect(contentTypes.some((type) => type.startsWith('text/event-stream'))).toBe(true);
  });

  it('answers a denied call with a tool error; the server never receives it', async () => {
    const { client, upstream } = await connect();
    const result = await callTool(client, 'delete_file', { path: '/etc/passwd' });
    expect(result.isError).toBe(true);
    expect(result.content[0]!.text).toContain('agentguard denied remote.delete_file: Deleting files through MCP is not allowed');
    expect(upstream.calls.get('delete_file')).toBeUndefined();
    await callTool(client, 'echo', { text: 'still serving' });
    expect(upstream.calls.get('echo')).toBe(1);
  });

  it('redacts a result inside an SSE response, and inside a JSON response', async () => {
    for (const json of [false, true]) {
      const { client, upstream, contentTypes } = await connect({ json });
      const result = await callTool(client, 'contact');
      expect(upstream.calls.get('contact')).toBe(1);
      expect(result.isError).toBeUndefined();
      expect(JSON.stringify(result)).not.toContain('alice.smith@example.com');
      expect(result.content[0]!.text).toContain('call +1 415 555 0100');
      expect(contentTypes.at(-1)!.startsWith(json ? 'application/json' : 'text/event-stream')).toBe(true);
    }
  });

  it('sends the arguments as the policy transformed them', async () => {
    const { client, upstream } = await connect();
    const result = await callTool(client, 'echo', { text: 'rewrite me' });
    expect(result.content[0]!.text).toBe('rewritten by policy');
    expect(upstream.calls.get('echo')).toBe(1);
  });

  it('passes progress notifications in an SSE stream through before the checked (redacted) result', async () => {
    const { client } = await connect();
    const progress: number[] = [];
    const result = (await client.callTool({ name: 'count_to', arguments: { n: 3 } }, undefined, { onprogress: (p) => void progress.push(p.progress) })) as ToolResult;
    expect(progress).toEqual([1, 2, 3]);
    expect(result.content[0]!.text).toContain('counted to 3');
    expect(result.content[0]!.text).not.toContain('bob@example.org');
  });

  it('checks tools/list with the tool guard: a guard that cannot open lists nothing and blocks every call', async () => {
    const { client, upstream } = await connect({ guard: failedGuard('the pins could not open') });
    await expect(client.listTools()).rejects.toThrow(/could not check the tools of remote, so they are not listed: the pins could not open/);
    const result = await callTool(client, 'echo', { text: 'x' });
    expect(result.isError).toBe(true);
    expect(result.content[0]!.text).toContain('agentguard blocked remote.echo: the pins could not open');
    expect(upstream.calls.size).toBe(0);
  });

  it('passes the session id through and decides calls under it as context.session.id', async () => {
    const { client, upstream, transport, actions } = await connect();
    await callTool(client, 'echo', { text: 'one' });
    expect(upstream.sessions).toHaveLength(1);
    expect(transport.sessionId).toBe(upstream.sessions[0]);
    const call = actions.find((a) => a.kind === 'mcp');
    expect(call).toMatchObject({ name: 'remote.echo', input: { text: 'one' }, context: { mcp: { server: 'remote', transport: 'streamable-http' }, session: { id: upstream.sessions[0] } } });
    await transport.terminateSession();
    expect(transport.sessionId).toBeUndefined();
  });

  it('passes the Authorization header to the server and never logs it', async () => {
    const { client, upstream, logs } = await connect();
    await callTool(client, 'echo', { text: 'auth' });
    expect(upstream.authorizations.length).toBeGreaterThan(2);
    expect(upstream.authorizations.every((value) => value === SECRET)).toBe(true);
    await upstream.close();
    await expect(callTool(client, 'echo', { text: 'gone' })).rejects.toThrow();
    expect(logs.length).toBeGreaterThan(0);
    expect(logs.join('\n')).not.toContain('sk-upstream-secret');
  });

  it('answers with an error, not a hang, when the server cannot be reached', async () => {
    const upstream = await startUpstream();
    const url = new URL(upstream.url);
    await upstream.close();
    const gateway = await startHttpGateway({ server: 'remote', upstream: url, decider: await recordingDecider([]), approvalWaitMs: 0, log: () => undefined });
    cleanups.push(() => gateway.close());
    const response = await fetch(gateway.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'tools/list' }),
    });
    expect(response.status).toBe(502);
    const body = (await response.json()) as { id: number; error: { code: number; message: string } };
    expect(body.id).toBe(7);
    expect(body.error.message).toContain('the MCP server remote at');
    expect(body.error.message).toContain('could not be reached');
    const client = new Client({ name: 'test-client', version: '1.0.0' });
    await expect(client.connect(new StreamableHTTPClientTransport(new URL(gateway.url)))).rejects.toThrow(/502|could not be reached/);
  });

  it('denies every call when the policy could not be loaded, forwarding none', async () => {
    const { client, upstream } = await connect({ decider: failedDecider('policy_unavailable', 'agentguard could not load its policy, so every tool call is denied: no such file') });
    const result = await callTool(client, 'echo', { text: 'x' });
    expect(result.isError).toBe(true);
    expect(result.content[0]!.text).toContain('could not load its policy');
    expect(upstream.calls.size).toBe(0);
  });

  it('denies every call when the sidecar (sidecar mode) cannot be reached, forwarding none', async () => {
    const closed = await startUpstream();
    const port = new URL(closed.url).port;
    await closed.close();
    const sidecar = new SidecarDecider(checkSidecarOptions({ sidecar: { url: `http://127.0.0.1:${port}`, token: 'agt_test_token' } }));
    const { client, upstream } = await connect({ decider: sidecarDecider(sidecar, () => undefined) });
    const result = await callTool(client, 'echo', { text: 'x' });
    expect(result.isError).toBe(true);
    expect(result.content[0]!.text).toContain('agentguard denied remote.echo');
    expect(result.content[0]!.text).toContain('sidecar');
    expect(upstream.calls.size).toBe(0);
  });

  it('does not forward a call the client cancelled while it was being decided', async () => {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let deciding!: () => void;
    const started = new Promise<void>((resolve) => (deciding = resolve));
    const inner = await recordingDecider([]);
    const gated: McpDecider = {
      ...inner,
      decide: async (action) => {
        if (action.kind === 'mcp') {
          deciding();
          await released;
        }
        return inner.decide(action);
      },
    };
    // The proxy marks the call cancelled before it forwards the notification, so the server seeing it is the cue.
    const onMessage = (message: unknown): void => {
      if ((message as { method?: string }).method === 'notifications/cancelled') release();
    };
    const { client, upstream } = await connect({ decider: gated, onMessage });
    const abort = new AbortController();
    const call = client.callTool({ name: 'echo', arguments: { text: 'cancel me' } }, undefined, { signal: abort.signal });
    await started;
    abort.abort('changed my mind');
    await expect(call).rejects.toThrow();
    await released;
    const after = await callTool(client, 'contact');
    expect(after.isError).toBeUndefined();
    expect(upstream.calls.get('echo')).toBeUndefined();
  });

  it('answers a call whose event stream breaks before its result with a JSON-RPC error, after the events that came', async () => {
    // A server that starts an SSE answer, sends one progress event, then drops the connection.
    const broken = createServer((request, response) => {
      request.resume();
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      response.write(`id: 1\ndata: ${JSON.stringify({ jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: 1, progress: 1 } })}\n\n`, () => response.destroy());
    });
    await new Promise<void>((resolve) => broken.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise((resolve) => broken.close(resolve)));
    const gateway = await startHttpGateway({ server: 'remote', upstream: new URL(`http://127.0.0.1:${(broken.address() as AddressInfo).port}/mcp`), decider: await recordingDecider([]), approvalWaitMs: 0, log: () => undefined });
    cleanups.push(() => gateway.close());
    const response = await fetch(gateway.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-session-id': 's-1' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 42, method: 'tools/call', params: { name: 'echo', arguments: { text: 'x' } } }),
    });
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    const data = (await response.text()).split('\n').filter((line) => line.startsWith('data: ')).map((line) => JSON.parse(line.slice(6)) as Record<string, unknown>);
    expect(data[0]).toMatchObject({ method: 'notifications/progress' });
    expect(data[1]).toMatchObject({ id: 42, error: { code: -32000, message: 'the event stream of the MCP server remote broke before it answered' } });
  });

  it('checks a result the client gets by resuming the stream with GET (Last-Event-ID)', async () => {
    // A server that closes the POST's stream after the priming event and delivers the result on the resumed GET stream.
    const resuming = createServer((request, response) => {
      request.resume();
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      if (request.method === 'POST') {
        response.end('id: e1\ndata: \n\n');
        return;
      }
      const result = { jsonrpc: '2.0', id: 9, result: { content: [{ type: 'text', text: 'mail alice.smith@example.com' }] } };
      response.end(`id: e2\ndata: ${JSON.stringify(result)}\n\n`);
    });
    await new Promise<void>((resolve) => resuming.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise((resolve) => resuming.close(resolve)));
    const gateway = await startHttpGateway({ server: 'remote', upstream: new URL(`http://127.0.0.1:${(resuming.address() as AddressInfo).port}/mcp`), decider: await recordingDecider([]), approvalWaitMs: 0, log: () => undefined });
    cleanups.push(() => gateway.close());
    const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-session-id': 's-2' };
    const posted = await fetch(gateway.url, { method: 'POST', headers, body: JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'tools/call', params: { name: 'contact', arguments: {} } }) });
    expect(await posted.text()).toBe('id: e1\ndata: \n\n');
    const resumed = await (await fetch(gateway.url, { method: 'GET', headers: { ...headers, 'last-event-id': 'e1' } })).text();
    expect(resumed).toContain('"id":9');
    expect(resumed).not.toContain('alice.smith@example.com');
  });

  it('refuses requests whose Host is not a loopback name (DNS rebinding) and malformed JSON-RPC', async () => {
    const upstream = await startUpstream();
    cleanups.push(() => upstream.close());
    const gateway = await startHttpGateway({ server: 'remote', upstream: new URL(upstream.url), decider: await recordingDecider([]), approvalWaitMs: 0, log: () => undefined });
    cleanups.push(() => gateway.close());
    const status = await new Promise<number>((resolve, reject) => {
      const request = httpRequest(gateway.url, { method: 'POST', headers: { host: `evil.example:${gateway.port}`, 'content-type': 'application/json' } }, (response) => {
        response.resume();
        resolve(response.statusCode!);
      });
      request.on('error', reject);
      request.end(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }));
    });
    expect(status).toBe(421);
    const malformed = await fetch(gateway.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{not json' });
    expect(malformed.status).toBe(400);
    expect(((await malformed.json()) as { error: { code: number } }).error.code).toBe(-32700);
    expect(upstream.authorizations).toHaveLength(0);
  });
});
