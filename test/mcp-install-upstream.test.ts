import { describe, expect, it } from 'vitest';
import { unwrapServers, wrapServers } from '../src/mcp/install/edit.js';
import { unwrapLaunch } from '../src/mcp/install/wrapped.js';
import { UPSTREAM_HEADERS_ENV } from '../src/mcp/upstream-env.js';
import type { ConfigLocation } from '../src/scan/mcp/clients.js';

/** `mcp install` on URL (Streamable HTTP) servers, in each client's own config shape. */
const LAUNCHER = { command: '/usr/bin/node', args: ['/opt/agentguard/bin/run.js'] };
const at = (client: ConfigLocation['client'], shape: ConfigLocation['shape'], syntax: ConfigLocation['syntax'] = 'json'): ConfigLocation => ({ client, path: `/cfg/${client}.json`, syntax, shape, scope: 'user' });
const wrapAll = (location: ConfigLocation, text: string) => wrapServers(location, text, { all: true }, { launcher: LAUNCHER, project: '/p' });

const cases: Array<{ name: string; location: ConfigLocation; entry: Record<string, unknown>; root: (servers: Record<string, unknown>) => unknown; servers: (root: any) => any; wrapped: Record<string, unknown> }> = [
  {
    name: 'Claude Code (.mcp.json): type http → stdio',
    location: at('claude-code', 'claude-code'),
    entry: { type: 'http', url: 'https://api.example.com/mcp', headers: { Authorization: 'Bearer ${GITHUB_TOKEN}' } },
    root: (s) => ({ mcpServers: s }),
    servers: (r) => r.mcpServers,
    wrapped: { type: 'stdio' },
  },
  {
    name: 'VS Code (servers): type http → stdio, ${input:…} kept',
    location: at('vscode', 'vscode-mcp', 'jsonc'),
    entry: { type: 'http', url: 'https://api.example.com/mcp', headers: { Authorization: 'Bearer ${input:token}' } },
    root: (s) => ({ servers: s }),
    servers: (r) => r.servers,
    wrapped: { type: 'stdio' },
  },
  {
    name: 'Cursor: url',
    location: at('cursor', 'mcpServers'),
    entry: { url: 'https://api.example.com/mcp', headers: { 'X-Api-Key': '${env:API_KEY}' } },
    root: (s) => ({ mcpServers: s }),
    servers: (r) => r.mcpServers,
    wrapped: {},
  },
  {
    name: 'Windsurf: serverUrl',
    location: at('windsurf', 'mcpServers'),
    entry: { serverUrl: 'https://api.example.com/mcp', headers: { Authorization: 'Bearer ${env:TOKEN}' } },
    root: (s) => ({ mcpServers: s }),
    servers: (r) => r.mcpServers,
    wrapped: {},
  },
  {
    name: 'Gemini CLI: httpUrl, other keys kept',
    location: at('gemini-cli', 'mcpServers'),
    entry: { httpUrl: 'https://api.example.com/mcp', headers: { Authorization: 'Bearer $TOKEN' }, timeout: 30000 },
    root: (s) => ({ mcpServers: s }),
    servers: (r) => r.mcpServers,
    wrapped: { timeout: 30000 },
  },
  {
    name: 'Cline: type streamableHttp → stdio, no headers',
    location: at('cline', 'mcpServers'),
    entry: { type: 'streamableHttp', url: 'https://api.example.com/mcp', disabled: false },
    root: (s) => ({ mcpServers: s }),
    servers: (r) => r.mcpServers,
    wrapped: { type: 'stdio', disabled: false },
  },
];

describe('mcp install on URL servers', () => {
  for (const c of cases) {
    it(`${c.name}: becomes a stdio entry running mcp wrap --upstream, headers moved as written into env, and unwraps back`, () => {
      const text = `${JSON.stringify(c.root({ remote: c.entry }), null, 2)}\n`;
      const edit = wrapAll(c.location, text);
      expect(edit.changes).toMatchObject([{ server: 'remote', outcome: 'wrapped' }]);
      const wrapped = c.servers(JSON.parse(edit.text)).remote;
      const url = (c.entry.url ?? c.entry.serverUrl ?? c.entry.httpUrl) as string;
      expect(wrapped).toEqual({
        ...c.wrapped,
        command: LAUNCHER.command,
        args: [...LAUNCHER.args, 'mcp', 'wrap', '--name', 'remote', '--project', '/p', '--upstream', url],
        ...(c.entry.headers ? { env: { [UPSTREAM_HEADERS_ENV]: JSON.stringify(c.entry.headers) } } : {}),
      });
      expect(unwrapLaunch(wrapped.command, wrapped.args)).toEqual({ name: 'remote', project: '/p', upstream: url });
      // A second install leaves it as it is.
      expect(wrapAll(c.location, edit.text)).toEqual({ text: edit.text, changes: [expect.objectContaining({ outcome: 'already-wrapped' })] });
      // Unwrapped in place (no backup): the same entry again, as the client writes it.
      const back = unwrapServers(c.location, edit.text, { all: true });
      expect(back.changes).toMatchObject([{ outcome: 'unwrapped' }]);
      expect(c.servers(JSON.parse(back.text)).remote).toEqual(c.entry);
    });
  }

  it('keeps env the entry already had, and removes only the headers variable when unwrapping', () => {
    const location = at('cursor', 'mcpServers');
    const entry = { url: 'https://api.example.com/mcp', headers: { Authorization: 'Bearer ${env:T}' }, env: { REGION: 'eu' } };
    const edit = wrapAll(location, JSON.stringify({ mcpServers: { r: entry } }));
    expect(JSON.parse(edit.text).mcpServers.r.env).toEqual({ REGION: 'eu', [UPSTREAM_HEADERS_ENV]: '{"Authorization":"Bearer ${env:T}"}' });
    expect(JSON.parse(unwrapServers(location, edit.text, { all: true }).text).mcpServers.r).toEqual(entry);
  });

  it('leaves SSE servers, servers the client signs in to itself, and odd headers as they are, saying why', () => {
    const location = at('gemini-cli', 'mcpServers');
    const servers = {
      legacy: { url: 'https://old.example.com/sse' },
      oauthed: { httpUrl: 'https://api.example.com/mcp', oauth: { enabled: true } },
      odd: { httpUrl: 'https://api.example.com/mcp', headers: { 'X-Retries': 3 } },
    };
    const text = JSON.stringify({ mcpServers: servers }, null, 2);
    const edit = wrapAll(location, text);
    expect(edit.text).toBe(text);
    expect(edit.changes).toEqual([
      expect.objectContaining({ server: 'legacy', outcome: 'skipped', note: expect.stringContaining('SSE') }),
      expect.objectContaining({ server: 'oauthed', outcome: 'skipped', note: expect.stringContaining('`oauth`') }),
      expect.objectContaining({ server: 'odd', outcome: 'skipped', note: expect.stringContaining('`headers` is not an object of strings') }),
    ]);
  });

  it('keeps the comments and layout of a JSONC config around a wrapped URL entry', () => {
    const location = at('vscode', 'vscode-mcp', 'jsonc');
    const text = '// my servers\n{\n\t"servers": {\n\t\t// remote one\n\t\t"web": { "type": "http", "url": "https://example.com/mcp" },\n\t\t"local": { "command": "node", "args": ["s.js"] }, // keep\n\t},\n}\n';
    const edit = wrapServers(location, text, { names: ['web'] }, { launcher: LAUNCHER });
    expect(edit.text).toContain('// my servers');
    expect(edit.text).toContain('// remote one');
    expect(edit.text).toContain('"local": { "command": "node", "args": ["s.js"] }, // keep');
    expect(edit.text).not.toContain('"url"');
  });
});
