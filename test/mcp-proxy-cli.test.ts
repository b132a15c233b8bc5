import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterEach, describe, expect, it } from 'vitest';
import { startUpstream } from './fixtures/mcp-http/upstream.js';
import { BIN, CLI_ENV } from './helpers/cli.js';
import { makeTempDir } from './helpers/temp-dirs.js';

const POLICY = `version: 1
name: mcp-http-cli
default: deny
rules:
  - id: no-delete
    effect: deny
    when: { kind: mcp, name: remote.delete_file }
    message: Deleting files through MCP is not allowed
  - id: tools
    effect: allow
    when: { kind: mcp, name: { glob: "remote.*" } }
  - id: results
    effect: allow
    when: { kind: mcp_output }
`;

const DESCRIPTION_POLICY = `version: 1
name: tool-descriptions
default: allow
rules:
  - id: instruction-tags
    effect: deny
    when: { kind: mcp_tool, input.normalized: { regex: '<\\s{0,4}important', flags: i } }
    message: the tool definition holds a tag posing as instructions
`;

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

function exitOf(child: ChildProcessWithoutNullStreams): Promise<number | null> {
  return child.exitCode !== null ? Promise.resolve(child.exitCode) : new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

/** Starts `agentguard mcp proxy` and resolves with its endpoint, the first line it prints on stdout. */
function startProxy(args: string[], cwd: string): Promise<{ child: ChildProcessWithoutNullStreams; url: string; stderr: () => string }> {
  const child = spawn(process.execPath, [BIN, 'mcp', 'proxy', ...args], { cwd, env: { ...process.env, ...CLI_ENV }, stdio: ['pipe', 'pipe', 'pipe'] });
  cleanups.push(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exitOf(child);
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  return new Promise((resolve, reject) => {
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
      if (stdout.includes('\n')) resolve({ child, url: stdout.split('\n')[0]!, stderr: () => stderr });
    });
    child.once('exit', (code) => reject(new Error(`mcp proxy exited with ${code}: ${stderr}`)));
  });
}

describe('agentguard mcp proxy (the CLI)', () => {
  it('serves a real MCP client: tools listed and pinned, allowed call through, denied call never reaches the server; SIGTERM stops it with 0', async () => {
    const upstream = await startUpstream();
    cleanups.push(() => upstream.close());
    const dir = makeTempDir('agentguard-mcp-proxy-');
    writeFileSync(join(dir, 'policy.yaml'), POLICY);
    // Tool definitions are decided by a small policy of the project's instead of the built-in one, so this process does
    // not load the injection model (seconds alone, tens of seconds on a loaded CI machine); pins work the same.
    writeFileSync(join(dir, 'descriptions.yaml'), DESCRIPTION_POLICY);
    writeFileSync(join(dir, 'agentguard.config.json'), JSON.stringify({ mcp: { descriptionPolicy: 'descriptions.yaml' } }));
    const proxy = await startProxy(['--name', 'remote', '--upstream', upstream.url, '--port', '0', '--policy', 'policy.yaml'], dir);
    expect(proxy.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/mcp$/);
    const client = new Client({ name: 'cli-test-client', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(proxy.url), { requestInit: { headers: { Authorization: 'Bearer cli-secret-99' } } }));
    cleanups.push(() => client.close());
    // The tool pins (on in the CLI) let a tool be called once a listing showed it, as clients always list first.
    expect((await client.listTools()).tools.map((tool) => tool.name).sort()).toEqual(['contact', 'count_to', 'delete_file', 'echo', 'summarize']);
    expect(await client.callTool({ name: 'echo', arguments: { text: 'via the CLI' } })).toEqual({ content: [{ type: 'text', text: 'via the CLI' }] });
    const denied = (await client.callTool({ name: 'delete_file', arguments: { path: 'a' } })) as { isError?: boolean; content: Array<{ text: string }> };
    expect(denied.isError).toBe(true);
    expect(denied.content[0]!.text).toContain('Deleting files through MCP is not allowed');
    expect(upstream.calls.get('echo')).toBe(1);
    expect(upstream.calls.get('delete_file')).toBeUndefined();
    expect(upstream.authorizations.every((value) => value === 'Bearer cli-secret-99')).toBe(true);
    await client.close();
    proxy.child.kill('SIGTERM');
    expect(await exitOf(proxy.child)).toBe(0);
    expect(proxy.stderr()).not.toContain('cli-secret-99');
  }, 90_000);

  it('refuses an upstream that is not an http(s) URL and a non-loopback host without --allow-remote (exit 2)', () => {
    const notHttp = spawnSync(process.execPath, [BIN, 'mcp', 'proxy', '--upstream', 'file:///etc/passwd'], { encoding: 'utf8', env: { ...process.env, ...CLI_ENV } });
    expect(notHttp.status).toBe(2);
    expect(notHttp.stderr).toContain('--upstream must be an http:// or https:// URL');
    const remote = spawnSync(process.execPath, [BIN, 'mcp', 'proxy', '--upstream', 'http://127.0.0.1:9/mcp', '--host', '0.0.0.0'], { encoding: 'utf8', env: { ...process.env, ...CLI_ENV } });
    expect(remote.status).toBe(2);
    expect(remote.stderr).toContain('would expose the MCP proxy to other machines');
  });
});
