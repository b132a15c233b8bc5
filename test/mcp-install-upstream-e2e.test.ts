import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterEach, expect, it } from 'vitest';
import { UPSTREAM_HEADERS_ENV } from '../src/mcp/upstream-env.js';
import { startUpstream } from './fixtures/mcp-http/upstream.js';
import { runCliInProcess } from './helpers/cli-in-process.js';
import { makeTempDir } from './helpers/temp-dirs.js';

const POLICY = `version: 1
name: remote-tools
default: deny
rules:
  - id: no-delete
    effect: deny
    when: { kind: mcp, name: { glob: "*.delete*" } }
    message: Deleting through MCP is not allowed.
  - id: tools
    effect: allow
    when: { kind: mcp }
  - id: results
    effect: allow
    when: { kind: mcp_output }
  - id: mask-emails
    effect: transform
    when:
      kind: mcp_output
      detect: { guardrail: pii, in: input.content, types: [EMAIL_ADDRESS] }
    transform:
      - { redact: input.content, guardrail: pii, types: [EMAIL_ADDRESS], mode: mask }
`;

const TOKEN = 'sk-remote-e2e-token-93f1';
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

/**
 * A Cursor config whose server is a Streamable HTTP URL with an Authorization header referring to an environment
 * variable: `mcp install` turns it into a stdio entry running `mcp wrap --upstream`, which a real MCP client starts as
 * Cursor would (the process from dist); the header reaches the server, never stderr; `uninstall` restores the bytes.
 */
it('a URL server installed through mcp wrap --upstream is decided by policy, authenticates upstream, and uninstalls byte for byte', async () => {
  const upstream = await startUpstream();
  cleanups.push(() => upstream.close());
  const root = makeTempDir('ag-mcp-install-upstream-');
  const home = join(root, 'home');
  const project = join(root, 'project');
  for (const dir of [join(home, '.cursor'), join(project, 'agentguard')]) mkdirSync(dir, { recursive: true });
  writeFileSync(join(project, 'agentguard', 'policy.yaml'), POLICY);
  const config = join(home, '.cursor', 'mcp.json');
  const original = `{\n  "mcpServers": {\n    "remote": {\n      "url": "${upstream.url}",\n      "headers": { "Authorization": "Bearer \${env:REMOTE_TOKEN}" }\n    }\n  }\n}\n`;
  writeFileSync(config, original);

  const installed = await runCliInProcess(['mcp', 'install', 'cursor', '--all', '--home', home], { cwd: project });
  expect(installed.code, installed.stderr).toBe(0);
  expect(installed.stdout).toContain('remote: now runs through agentguard mcp wrap');
  const entry = JSON.parse(readFileSync(config, 'utf8')).mcpServers.remote as { command: string; args: string[]; env: Record<string, string>; url?: string; headers?: unknown };
  expect(entry.url).toBeUndefined();
  expect(entry.headers).toBeUndefined();
  expect(entry.args.slice(-2)).toEqual(['--upstream', upstream.url]);
  // The reference stays a reference: no secret is written that was not there.
  expect(entry.env).toEqual({ [UPSTREAM_HEADERS_ENV]: '{"Authorization":"Bearer ${env:REMOTE_TOKEN}"}' });
  expect(readFileSync(config, 'utf8')).not.toContain(TOKEN);

  const scanned = await runCliInProcess(['scan', '--home', home, '--path', project, '--data-dir', join(root, 'scan-data'), '--no-probe', '--json'], { cwd: project, env: { HOME: home } });
  // Exit 1: the Cursor found here has no hooks installed, which scan reports as unsecured.
  expect(scanned.stderr).toBe('');
  const finding = (JSON.parse(scanned.stdout).findings as Array<{ kind: string; name: string; status: string; details: Record<string, unknown> }>).find((f) => f.kind === 'mcp-server' && f.name.startsWith('remote '));
  expect(finding).toMatchObject({ status: 'secured', details: { transport: 'http', url: upstream.url, headersNames: ['Authorization'], envNames: [], gateway: { kind: 'agentguard mcp wrap', name: 'remote' } } });

  // Started as Cursor starts it: the entry's env added to the client's (Cursor would expand ${env:…} itself; the
  // gateway fills a reference left as it is from its own environment).
  const transport = new StdioClientTransport({ command: entry.command, args: entry.args, cwd: root, env: { ...(process.env as Record<string, string>), ...entry.env, REMOTE_TOKEN: TOKEN }, stderr: 'pipe' });
  let stderr = '';
  transport.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const client = new Client({ name: 'cursor-like', version: '1.0.0' });
  await client.connect(transport);
  try {
    // Tools are pinned at the first listing; a tool never listed is blocked.
    expect((await client.listTools()).tools.map((t) => t.name)).toContain('echo');
    const echoed = await client.callTool({ name: 'echo', arguments: { text: 'through the gateway' } });
    expect(echoed.content).toEqual([{ type: 'text', text: 'through the gateway' }]);
    const contact = await client.callTool({ name: 'contact', arguments: {} });
    expect(JSON.stringify(contact.content)).not.toContain('alice.smith@example.com');
    const denied = await client.callTool({ name: 'delete_file', arguments: { path: '/etc/passwd' } });
    expect(denied.isError).toBe(true);
    expect(JSON.stringify(denied.content)).toContain('Deleting through MCP is not allowed.');
  } finally {
    await client.close();
  }
  expect(upstream.calls.get('echo')).toBe(1);
  expect(upstream.calls.get('delete_file')).toBeUndefined();
  expect(upstream.authorizations.length).toBeGreaterThan(0);
  expect(new Set(upstream.authorizations)).toEqual(new Set([`Bearer ${TOKEN}`]));
  expect(stderr).not.toContain(TOKEN);

  const uninstalled = await runCliInProcess(['mcp', 'uninstall', 'cursor', '--all', '--home', home], { cwd: project });
  expect(uninstalled.code, uninstalled.stderr).toBe(0);
  expect(readFileSync(config, 'utf8')).toBe(original);
});
