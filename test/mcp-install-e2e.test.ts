import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { expect, it } from 'vitest';
import { ROOT } from './helpers/cli.js';
import { runCliInProcess } from './helpers/cli-in-process.js';
import { makeTempDir } from './helpers/temp-dirs.js';

/**
 * A config rewritten by `mcp install` starts its server through the gateway, as the client would start it: from a
 * working folder of the client's choosing, deciding by the project's policy and recording in the project's data folder.
 */
it('the launch line install writes runs the server behind mcp wrap, with the project it names', async () => {
  const root = makeTempDir('ag-mcp-install-e2e-');
  const home = join(root, 'home');
  const project = join(root, 'project');
  const elsewhere = join(root, 'client-cwd');
  for (const dir of [join(home, '.config', 'Claude'), join(project, 'agentguard'), elsewhere]) mkdirSync(dir, { recursive: true });
  writeFileSync(join(project, 'agentguard', 'policy.yaml'), readFileSync(join(ROOT, 'policies/mcp-gateway/policy.yaml')));
  const config = join(home, '.config', 'Claude', 'claude_desktop_config.json');
  writeFileSync(config, JSON.stringify({ mcpServers: { fx: { command: process.execPath, args: [join(ROOT, 'test/fixtures/mcp/server.mjs')] } } }, null, 2));

  const installed = await runCliInProcess(['mcp', 'install', 'claude-desktop', '--all', '--home', home], { cwd: project });
  expect(installed.code, installed.stderr).toBe(0);
  const entry = JSON.parse(readFileSync(config, 'utf8')).mcpServers.fx as { command: string; args: string[] };
  expect(entry.args).toContain('--project');

  const client = new Client({ name: 'install-e2e', version: '1.0.0' });
  const transport = new StdioClientTransport({ command: entry.command, args: entry.args, cwd: elsewhere, env: { ...process.env } as Record<string, string>, stderr: 'pipe' });
  await client.connect(transport);
  try {
    const tools = await client.listTools();
    expect(tools.tools.map((t) => t.name)).toContain('delete_file');
    // The project's policy denies *.delete*: the gateway answers, the server never sees the call.
    const denied = await client.callTool({ name: 'delete_file', arguments: { path: '/etc/passwd' } });
    expect(denied.isError).toBe(true);
    expect(JSON.stringify(denied.content)).toContain('agentguard denied fx.delete_file');
  } finally {
    await client.close();
  }
  expect(existsSync(join(project, '.agentguard'))).toBe(true);
  expect(existsSync(join(elsewhere, '.agentguard'))).toBe(false);
});
