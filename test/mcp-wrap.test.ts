import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Action } from '../src/core/action.js';
import { makeTempDir } from './helpers/temp-dirs.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const BIN = join(root, 'bin/run.js');
const SERVER = join(root, 'test/fixtures/mcp/server.mjs');

const POLICY = `version: 1
name: mcp-test
default: deny
rules:
  - id: demo-tools
    effect: allow
    when: { kind: mcp, name: { glob: "demo.*" } }
  - id: no-delete
    effect: deny
    when: { kind: mcp, name: demo.delete_file }
    message: Deleting files through MCP is not allowed
  - id: readonly-query
    effect: transform
    when: { kind: mcp, name: demo.query }
    transform: [ { set: input.readOnly, value: true } ]
  - id: approve-payments
    effect: require_approval
    when: { kind: mcp, name: demo.echo, input.text: pay }
  - id: results
    effect: allow
    when: { kind: mcp_output }
  - id: mask-emails-in-results
    effect: transform
    when: { kind: mcp_output, detect: { guardrail: pii, in: input.content, types: [EMAIL_ADDRESS] } }
    transform: [ { redact: input.content, guardrail: pii, types: [EMAIL_ADDRESS], mode: mask } ]
  - id: no-injected-results
    effect: deny
    when: { kind: mcp_output, detect: { guardrail: injection, in: input.content } }
    message: The tool result carries instructions aimed at the agent
`;

interface ToolResult {
  content: Array<{ type: string; text?: string }>;
  structuredContent?: Record<string, unknown>;
  isError?: boolean;
}

const clients: Client[] = [];
const processes: ChildProcessWithoutNullStreams[] = [];

afterEach(async () => {
  for (const client of clients.splice(0)) await client.close();
  for (const child of processes.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

function project(policy = POLICY): { dir: string; policyFile: string } {
  const dir = makeTempDir('agentguard-mcp-wrap-');
  const policyFile = join(dir, 'policy.yaml');
  writeFileSync(policyFile, policy);
  return { dir, policyFile };
}

async function connect(command: string, args: string[], cwd: string, env: Record<string, string> = {}): Promise<Client> {
  const client = new Client({ name: 'gateway-test-client', version: '1.0.0' });
  clients.push(client);
  await client.connect(new StdioClientTransport({ command, args, cwd, stderr: 'ignore', env: { ...(process.env as Record<string, string>), ...env } }));
  return client;
}

function wrapArgs(flags: string[]): string[] {
  return [BIN, 'mcp', 'wrap', '--name', 'demo', ...flags, '--', process.execPath, SERVER];
}

async function call(client: Client, name: string, args: Record<string, unknown> = {}): Promise<ToolResult> {
  return (await client.callTool({ name, arguments: args })) as ToolResult;
}

async function callsReceived(client: Client): Promise<number> {
  return Number((await call(client, 'calls')).content[0]!.text);
}

/** The wrap command with raw pipes, for what an SDK client cannot send or observe. */
function rawWrap(flags: string[], cwd: string, server = SERVER): { child: ChildProcessWithoutNullStreams; lines: () => Promise<Record<string, unknown>>; send: (line: string) => void } {
  const child = spawn(process.execPath, [...wrapArgs(flags).slice(0, -1), server], { cwd, stdio: ['pipe', 'pipe', 'pipe'] });
  processes.push(child);
  const queue: Record<string, unknown>[] = [];
  const waiting: Array<(m: Record<string, unknown>) => void> = [];
  let buffered = '';
  child.stdout.on('data', (chunk: Buffer) => {
    buffered += chunk.toString('utf8');
    let newline: number;
    while ((newline = buffered.indexOf('\n')) !== -1) {
      const message = JSON.parse(buffered.slice(0, newline)) as Record<string, unknown>;
      buffered = buffered.slice(newline + 1);
      const next = waiting.shift();
      if (next) next(message);
      else queue.push(message);
    }
  });
  child.stderr.resume();
  return {
    child,
    send: (line) => void child.stdin.write(`${line}\n`),
    lines: () => (queue.length > 0 ? Promise.resolve(queue.shift()!) : new Promise((resolve) => waiting.push(resolve))),
  };
}

function exitOf(child: ChildProcessWithoutNullStreams): Promise<number | null> {
  return child.exitCode !== null ? Promise.resolve(child.exitCode) : new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

const INITIALIZE = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } });

describe('mcp wrap (local mode, a real MCP client and server)', () => {
  let dir: string;
  let client: Client;
  let direct: Client;

  beforeAll(async () => {
    const p = project();
    dir = p.dir;
    client = await connect(process.execPath, wrapArgs(['--policy', p.policyFile]), dir);
    direct = await connect(process.execPath, [SERVER], dir);
    clients.splice(0); // closed in afterAll, shared by the tests below
  });
  afterAll(async () => {
    await client.close();
    await direct.close();
  });

  it('lists the server tools and passes an allowed call and its result through unchanged', async () => {
    const tools = await client.listTools();
    expect(tools.tools.map((t) => t.name)).toContain('echo');
    expect(await call(client, 'echo', { text: 'hello there' })).toEqual(await call(direct, 'echo', { text: 'hello there' }));
  });

  it('answers a denied call with a tool error naming the reason, and the server never receives it', async () => {
    const before = await callsReceived(client);
    const result = await call(client, 'delete_file', { path: '/etc/passwd' });
    expect(result.isError).toBe(true);
    expect(result.content[0]!.text).toContain('Deleting files through MCP is not allowed');
    expect(await callsReceived(client)).toBe(before);
  });

  it('sends the arguments as the policy transformed them', async () => {
    const result = await call(client, 'query', { sql: 'select 1' });
    expect(JSON.parse(result.content[0]!.text!)).toEqual({ sql: 'select 1', readOnly: true });
  });

  it('redacts a result by the output rules (text and structured content)', async () => {
    const result = await call(client, 'contact');
    expect(result.isError).toBeUndefined();
    expect(JSON.stringify(result)).not.toContain('alice.smith@example.com');
    expect(result.content[0]!.text).toContain('call +1 415 555 0100');
    expect(typeof result.structuredContent?.email).toBe('string');
  });

  it('replaces a result that carries an injection with a tool error', async () => {
    const result = await call(client, 'fetch_page');
    expect(result.isError).toBe(true);
    expect(JSON.stringify(result)).not.toContain('id_rsa');
    expect(result.content[0]!.text).toContain('instructions aimed at the agent');
  });

  it('denies a call that needs approval at once, naming the approval, without reaching the server', async () => {
    const before = await callsReceived(client);
    const result = await call(client, 'echo', { text: 'pay' });
    expect(result.isError).toBe(true);
    expect(result.content[0]!.text).toMatch(/agentguard approvals approve \S+/);
    expect(await callsReceived(client)).toBe(before);
  });

  it('checks resources/read and prompts/get results by the output rules too', async () => {
    expect(await client.readResource({ uri: 'memo://readme' })).toEqual(await direct.readResource({ uri: 'memo://readme' }));
    const contacts = await client.readResource({ uri: 'memo://contacts' });
    expect(contacts.contents[0]).toMatchObject({ uri: 'memo://contacts' });
    expect(JSON.stringify(contacts)).not.toContain('bob.jones@example.com');
    await expect(client.getPrompt({ name: 'poisoned' })).rejects.toThrow(/agentguard withheld the prompt poisoned of demo: The tool result carries instructions aimed at the agent/);
  });

  it('records the decisions and the outcomes of the calls in the audit trail, with the MCP context', async () => {
    const query = async (...args: string[]) =>
      JSON.parse((await promisify(execFile)(process.execPath, [BIN, 'audit', 'query', '--json', ...args], { cwd: dir })).stdout) as Array<{ type: string; effect: string | null; data: { action?: Action; name?: string; status?: string } }>;
    const denied = await query('--rule', 'no-delete');
    expect(denied).toHaveLength(1);
    expect(denied[0]!.effect).toBe('deny');
    expect(denied[0]!.data.action).toMatchObject({ kind: 'mcp', name: 'demo.delete_file', input: { path: '/etc/passwd' }, context: { mcp: { server: 'demo', transport: 'stdio' } } });
    const outcomes = await query('--type', 'outcome');
    expect(outcomes.some((o) => o.data.name === 'demo.echo' && o.data.status === 'ok')).toBe(true);
  });
});

describe('mcp wrap waiting for approval (--approval-wait)', () => {
  it('runs the call once a person approves it from another process', async () => {
    const { dir, policyFile } = project();
    const callsFile = join(dir, 'calls.txt');
    const client = await connect(process.execPath, wrapArgs(['--policy', policyFile, '--approval-wait', '25000']), dir, { MCP_TEST_CALLS_FILE: callsFile });
    await client.listTools();
    let answered: ToolResult | undefined;
    const pending = call(client, 'echo', { text: 'pay' }).then((result) => (answered = result));
    const cli = async (...args: string[]): Promise<string> => (await promisify(execFile)(process.execPath, [BIN, ...args], { cwd: dir })).stdout;
    let approvals: Array<{ id: string; action: { name: string } }> = [];
    while (approvals.length === 0) {
      if (answered) expect.fail(`the call was answered before any approval was pending: ${JSON.stringify(answered)}`);
      approvals = JSON.parse(await cli('approvals', 'list', '--status', 'pending', '--json')) as typeof approvals;
    }
    expect(approvals[0]!.action.name).toBe('demo.echo');
    expect(existsSync(callsFile)).toBe(false);
    await cli('approvals', 'approve', approvals[0]!.id, '--by', 'test');
    const result = await pending;
    expect(result).toEqual({ content: [{ type: 'text', text: 'pay' }] });
    expect(readFileSync(callsFile, 'utf8')).toBe('echo\n');
  });
});

describe('mcp wrap over raw pipes, failing closed', () => {
  it('answers malformed lines with JSON-RPC errors and keeps serving', async () => {
    const { dir, policyFile } = project();
    const wrap = rawWrap(['--policy', policyFile], dir);
    wrap.send('this is not json');
    expect(await wrap.lines()).toMatchObject({ jsonrpc: '2.0', id: null, error: { code: -32700 } });
    wrap.send(JSON.stringify({ jsonrpc: '2.0', id: 9, method: 5 }));
    expect(await wrap.lines()).toMatchObject({ id: 9, error: { code: -32600 } });
    wrap.send(INITIALIZE);
    expect(await wrap.lines()).toMatchObject({ id: 1, result: { serverInfo: { name: 'gateway-test-server' } } });
    wrap.child.stdin.end();
    expect(await exitOf(wrap.child)).toBe(0);
  });

  it('denies every call when the sidecar is unreachable, and the server never receives one', async () => {
    const { dir } = project();
    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as { port: number };
        probe.close(() => resolve(port));
      });
    });
    const callsFile = join(dir, 'calls.txt');
    const client = await connect(process.execPath, wrapArgs(['--sidecar', `http://127.0.0.1:${port}`, '--token', 'agt_test_token']), dir, { MCP_TEST_CALLS_FILE: callsFile });
    expect((await client.listTools()).tools.length).toBeGreaterThan(0);
    const result = await call(client, 'echo', { text: 'hello' });
    expect(result.isError).toBe(true);
    expect(result.content[0]!.text).toContain('sidecar');
    expect(existsSync(callsFile)).toBe(false);
  });

  it('still starts when the policy cannot be loaded, and denies every call naming the problem', async () => {
    const { dir } = project();
    const client = await connect(process.execPath, wrapArgs(['--policy', join(dir, 'missing.yaml')]), dir);
    expect((await client.listTools()).tools.length).toBeGreaterThan(0);
    const result = await call(client, 'echo', { text: 'hello' });
    expect(result.isError).toBe(true);
    expect(result.content[0]!.text).toContain('could not load its policy');
    expect(result.content[0]!.text).toContain('missing.yaml');
  });

  it('passes progress notifications through unchanged, before the result', async () => {
    // Raw pipes: the SDK client may drop progress that arrives in the same chunk as the result, so read the wire.
    const { dir, policyFile } = project();
    const wrap = rawWrap(['--policy', policyFile], dir);
    wrap.send(INITIALIZE);
    expect(await wrap.lines()).toMatchObject({ id: 1 });
    wrap.send(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }));
    wrap.send(JSON.stringify({ jsonrpc: '2.0', id: 'list', method: 'tools/list' })); // pins the tools, as clients do first
    expect(await wrap.lines()).toMatchObject({ id: 'list', result: { tools: expect.any(Array) } });
    wrap.send(JSON.stringify({ jsonrpc: '2.0', id: 'call-7', method: 'tools/call', params: { name: 'slow', arguments: { steps: 3 }, _meta: { progressToken: 'tok-1' } } }));
    const seen = [await wrap.lines(), await wrap.lines(), await wrap.lines(), await wrap.lines()];
    expect(seen.slice(0, 3)).toEqual([1, 2, 3].map((progress) => ({ jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: 'tok-1', progress, total: 3 } })));
    expect(seen[3]).toMatchObject({ id: 'call-7', result: { content: [{ type: 'text', text: 'done in 3 steps' }] } });
    wrap.child.stdin.end();
    expect(await exitOf(wrap.child)).toBe(0);
  });

  it('stops a server that stays up after the client closed its input (SIGTERM), and exits with its status', async () => {
    const { dir, policyFile } = project();
    const wrap = rawWrap(['--policy', policyFile], dir, join(root, 'test/fixtures/mcp/stubborn-server.mjs'));
    expect(await wrap.lines()).toMatchObject({ method: 'notifications/message', params: { data: 'up' } });
    wrap.child.stdin.end();
    expect(await exitOf(wrap.child)).toBe(128 + 15);
  });

  it('ends the session when the server dies: the pending call gets an error and the proxy exits with the server code', async () => {
    const { dir, policyFile } = project();
    const wrap = rawWrap(['--policy', policyFile], dir);
    wrap.send(INITIALIZE);
    expect(await wrap.lines()).toMatchObject({ id: 1 });
    wrap.send(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }));
    wrap.send(JSON.stringify({ jsonrpc: '2.0', id: 'list', method: 'tools/list' })); // pins the tools, as clients do first
    expect(await wrap.lines()).toMatchObject({ id: 'list', result: { tools: expect.any(Array) } });
    wrap.send(JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'crash', arguments: {} } }));
    expect(await wrap.lines()).toMatchObject({ id: 2, error: { code: -32000 } });
    expect(await exitOf(wrap.child)).toBe(3);
  });
});
