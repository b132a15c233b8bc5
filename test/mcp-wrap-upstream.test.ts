import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { CreateMessageRequestSchema, McpError } from '@modelcontextprotocol/sdk/types.js';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Action } from '../src/core/action.js';
import { openEngine } from '../src/core/engine/open-engine.js';
import { Policy } from '../src/core/policy/policy.js';
import { engineDecider, type McpDecider } from '../src/mcp/decider.js';
import type { ToolListGuard } from '../src/mcp/hooks.js';
import { runStdioGateway } from '../src/mcp/gateway.js';
import { AgentGuardError } from '../src/core/errors.js';
import { upstreamHeaders, upstreamUrl, UPSTREAM_HEADERS_ENV } from '../src/cli/mcp-upstream.js';
import { startUpstream, type Upstream } from './fixtures/mcp-http/upstream.js';
import { connectThroughGateway } from './helpers/mcp-in-process.js';

/** `mcp wrap --upstream`: the stdio gateway whose server side is a Streamable HTTP server (the SDK's McpServer). */
const POLICY = Policy.parse({
  version: 1,
  name: 'mcp-wrap-upstream',
  default: 'deny',
  rules: [
    { id: 'no-delete', effect: 'deny', when: { kind: 'mcp', name: 'remote.delete_file' }, message: 'Deleting files through MCP is not allowed' },
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
const textOf = (result: unknown): string => (result as ToolResult).content.map((c) => c.text ?? '').join('');

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

async function recordingDecider(actions: Action[]): Promise<McpDecider> {
  const engine = await openEngine({ policy: POLICY, record: false });
  const decider = engineDecider(engine, () => undefined);
  cleanups.push(() => decider.close());
  return { ...decider, decide: (action) => (actions.push(action), decider.decide(action)) };
}

/** Hides delete_file from every listing, as tool pins hide a changed tool. */
const hidingGuard: ToolListGuard = {
  checkToolList: async (server, tools) => ({
    tools: tools.filter((t) => t.name !== 'delete_file'),
    findings: [{ server, tool: 'delete_file', type: 'changed', message: 'changed since pinned', hidden: true }],
  }),
  blockedTool: async () => null,
};

async function connect(url: string, options: { guard?: ToolListGuard; connectFails?: boolean } = {}) {
  const actions: Action[] = [];
  const logs: string[] = [];
  const connected = connectThroughGateway(
    {
      server: 'remote',
      upstream: { url: new URL(url), headers: { Authorization: SECRET }, shutdownGraceMs: 1000 },
      decider: await recordingDecider(actions),
      approvalWaitMs: 0,
      ...(options.guard ? { guard: options.guard } : {}),
      log: (message: string) => void logs.push(message),
    },
    'upstream-test-client',
  );
  return { connected, actions, logs };
}

async function through(upstream: Upstream, guard?: ToolListGuard) {
  const { connected, actions, logs } = await connect(upstream.url, guard ? { guard } : {});
  const { client, done } = await connected;
  let closed = false;
  const close = async (): Promise<number> => {
    if (!closed) await client.close();
    closed = true;
    return done;
  };
  cleanups.push(close);
  return { client, done, close, actions, logs };
}

describe('mcp wrap --upstream (a real MCP client, the gateway in process, a real Streamable HTTP server)', () => {
  it('passes an allowed call through unchanged, sending the configured Authorization header, which no log line holds', async () => {
    const upstream = await startUpstream();
    cleanups.push(() => upstream.close());
    const { client, close, actions, logs } = await through(upstream);
    const result = await client.callTool({ name: 'echo', arguments: { text: 'hello over HTTP' } });
    expect(result).toEqual({ content: [{ type: 'text', text: 'hello over HTTP' }] });
    expect(upstream.calls.get('echo')).toBe(1);
    expect(upstream.sessions).toHaveLength(1);
    expect(upstream.authorizations.length).toBeGreaterThan(0);
    expect(upstream.authorizations.every((a) => a === SECRET)).toBe(true);
    const call = actions.find((a) => a.kind === 'mcp');
    expect(call).toMatchObject({ name: 'remote.echo', input: { text: 'hello over HTTP' }, context: { mcp: { server: 'remote', transport: 'streamable-http' } } });
    expect(await close()).toBe(0);
    expect(logs.join('\n')).not.toContain('sk-upstream-secret');
  });

  it('answers a denied call itself: the upstream never receives it', async () => {
    const upstream = await startUpstream({ json: true });
    cleanups.push(() => upstream.close());
    const { client } = await through(upstream);
    const denied = (await client.callTool({ name: 'delete_file', arguments: { path: '/etc/passwd' } })) as ToolResult;
    expect(denied.isError).toBe(true);
    expect(textOf(denied)).toContain('Deleting files through MCP is not allowed');
    expect(upstream.calls.get('delete_file')).toBeUndefined();
  });

  it('masks personal data in a result, and passes progress notifications streamed over SSE through', async () => {
    const upstream = await startUpstream();
    cleanups.push(() => upstream.close());
    const { client } = await through(upstream);
    const contact = await client.callTool({ name: 'contact', arguments: {} });
    expect(textOf(contact)).not.toContain('alice.smith@example.com');
    expect(textOf(contact)).toContain('+1 415 555 0100');
    const progress: number[] = [];
    const counted = await client.callTool({ name: 'count_to', arguments: { n: 3 } }, undefined, { onprogress: (p) => void progress.push(p.progress) });
    expect(progress).toEqual([1, 2, 3]);
    expect(textOf(counted)).toContain('counted to 3');
    expect(textOf(counted)).not.toContain('bob@example.org');
  });

  it('puts tools/list results through the tool guard', async () => {
    const upstream = await startUpstream();
    cleanups.push(() => upstream.close());
    const { client, logs } = await through(upstream, hidingGuard);
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toContain('echo');
    expect(tools.map((t) => t.name)).not.toContain('delete_file');
    expect(logs.join('\n')).toContain('remote.delete_file: changed since pinned (hidden from the client)');
  });

  it("decides the upstream's sampling requests (sent on its SSE stream) as llm actions: denied here, the client's model is never asked", async () => {
    const upstream = await startUpstream();
    cleanups.push(() => upstream.close());
    const actions: Action[] = [];
    const asked: unknown[] = [];
    const { client, done } = await connectThroughGateway(
      { server: 'remote', upstream: { url: new URL(upstream.url), headers: { Authorization: SECRET } }, decider: await recordingDecider(actions), approvalWaitMs: 0 },
      'sampling-client',
      { capabilities: { sampling: {} } },
      (c) =>
        c.setRequestHandler(CreateMessageRequestSchema, async (request) => {
          asked.push(request.params);
          return { role: 'assistant', content: { type: 'text', text: 'a summary' }, model: 'fake-model' };
        }),
    );
    cleanups.push(async () => {
      await client.close();
      await done;
    });
    const result = await client.callTool({ name: 'summarize', arguments: { text: 'the release notes' } });
    expect(textOf(result)).toMatch(/^sampling refused \(-1\): .*agentguard refused the sampling request of remote/);
    expect(asked).toHaveLength(0);
    expect(actions.find((a) => a.kind === 'llm')).toMatchObject({ name: 'remote.sampling/createMessage' });
  });

  it('answers with JSON-RPC errors when the upstream goes away mid-session, and still ends cleanly', async () => {
    const upstream = await startUpstream({ json: true });
    const { client, close, logs } = await through(upstream);
    await upstream.close();
    const failure = await client.callTool({ name: 'echo', arguments: { text: 'anyone?' } }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(McpError);
    expect((failure as McpError).code).toBe(-32000);
    expect((failure as McpError).message).toMatch(/the MCP server remote at http:\/\/127\.0\.0\.1:\d+\/mcp could not be reached: fetch failed \(ECONNREFUSED\)/);
    expect(await close()).toBe(0);
    expect(logs.join('\n')).not.toContain('sk-upstream-secret');
  });

  it('answers initialize with a JSON-RPC error when the upstream cannot be reached, never quoting the header an upstream echoes back', async () => {
    // An upstream that refuses every request, quoting the Authorization header it got in its error body.
    const echoing: Server = createServer((request, response) => response.writeHead(401, { 'content-type': 'text/plain' }).end(`bad credentials: ${request.headers.authorization}`));
    await new Promise<void>((resolve) => echoing.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => echoing.close(() => resolve())));
    const url = `http://127.0.0.1:${(echoing.address() as AddressInfo).port}/mcp?key=in-the-query`;
    const { connected, logs } = await connect(url);
    const failure = await connected.then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(McpError);
    const message = (failure as McpError).message;
    expect(message).toContain('HTTP 401');
    expect(message).toContain('[header value]');
    expect(message).not.toContain('sk-upstream-secret');
    expect(message).not.toContain('in-the-query');
    expect(logs.join('\n')).not.toContain('sk-upstream-secret');
  });

  it('answers each request to an unreachable upstream with -32000 and exits 0 once the client closes its input', async () => {
    const upstream = await startUpstream();
    const url = upstream.url;
    await upstream.close();
    const input = new PassThrough();
    const output = new PassThrough();
    const logs: string[] = [];
    const done = runStdioGateway({
      server: 'remote',
      upstream: { url: new URL(url), headers: { Authorization: SECRET } },
      decider: await recordingDecider([]),
      approvalWaitMs: 0,
      input,
      output,
      log: (message) => void logs.push(message),
    });
    const lines: string[] = [];
    output.on('data', (chunk: Buffer) => lines.push(...chunk.toString('utf8').split('\n').filter(Boolean)));
    const initialize = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } };
    input.write(`${JSON.stringify(initialize)}\n`);
    input.write(`${JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' })}\n`);
    await vi.waitFor(() => expect(lines).toHaveLength(2), { timeout: 10_000 });
    const answers = lines.map((line) => JSON.parse(line) as { id: number; error?: { code: number; message: string } });
    expect(answers.map((a) => a.id).sort()).toEqual([1, 2]);
    for (const answer of answers) {
      expect(answer.error?.code).toBe(-32000);
      expect(answer.error?.message).toContain('could not be reached');
    }
    input.end();
    expect(await done).toBe(0);
    expect(logs.join('\n')).not.toContain('sk-upstream-secret');
  });
});

describe('mcp wrap --upstream settings', () => {
  it('takes headers from AGENTGUARD_MCP_UPSTREAM_HEADERS and --header-env, filling ${VAR} references the client left', () => {
    const env = { [UPSTREAM_HEADERS_ENV]: '{"Authorization":"Bearer ${GH_TOKEN}","X-Team":"core"}', GH_TOKEN: 'ghp_abc123', API_KEY: 'k-42' };
    expect(upstreamHeaders(['X-Api-Key=API_KEY'], env)).toEqual({ Authorization: 'Bearer ghp_abc123', 'X-Team': 'core', 'X-Api-Key': 'k-42' });
  });

  it('refuses bad header settings without quoting a value', () => {
    const secret = 'sk-do-not-print';
    const bad: Array<[string[], NodeJS.ProcessEnv, RegExp]> = [
      [[], { [UPSTREAM_HEADERS_ENV]: `{not json ${secret}` }, /is not valid JSON/],
      [[], { [UPSTREAM_HEADERS_ENV]: `{"Authorization": 1}` }, /values are strings/],
      [[], { [UPSTREAM_HEADERS_ENV]: `{"Mcp-Session-Id":"${secret}"}` }, /set by the MCP transport/],
      [[], { [UPSTREAM_HEADERS_ENV]: `{"X-Key":"${secret}\\r\\nHost: evil"}` }, /line break/],
      [['Authorization=MISSING_VAR'], {}, /MISSING_VAR is not set/],
      [['Authorization'], {}, /is not <Header>=<ENV_VAR>/],
    ];
    for (const [flags, env, message] of bad) {
      let thrown: unknown;
      try {
        upstreamHeaders(flags, env);
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(AgentGuardError);
      expect((thrown as Error).message).toMatch(message);
      expect(JSON.stringify(thrown)).not.toContain(secret);
      expect((thrown as Error).message).not.toContain(secret);
    }
  });

  it('accepts http(s) URLs only, without credentials in them', () => {
    expect(upstreamUrl('https://mcp.example.com/mcp').href).toBe('https://mcp.example.com/mcp');
    expect(() => upstreamUrl('ftp://x/mcp')).toThrow(/http:\/\/ or https:\/\//);
    expect(() => upstreamUrl('https://me:pw@mcp.example.com/mcp')).toThrow(/user name or password/);
    expect(() => upstreamUrl('not a url')).toThrow(/not a URL/);
  });
});
