import { chmodSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { mcpConfigLocations } from '../src/scan/mcp/clients.js';
import { scanMcpConfigs } from '../src/scan/mcp/index.js';
import { readConfig } from '../src/scan/mcp/read.js';
import { commandTokens, hasShellPipe, isPinned, isPlainHttpRemote, runnerPackages } from '../src/scan/mcp/risks.js';
import { holdsSecret, maskArgs, sanitizeUrl } from '../src/scan/mcp/secrets.js';
import type { ScanOptions } from '../src/scan/types.js';
import { FAKE_SECRET, SERVERS, removeTempDirs, tempDir, write, writeAllClients, type Layout } from './fixtures/scan/mcp/homes.js';

afterAll(removeTempDirs);

const options = (home: string, extra: Partial<ScanOptions> = {}): ScanOptions => ({
  home, paths: [], probe: false, platform: 'linux', procRoot: '/proc', probeTimeoutMs: 100, ...extra,
});

const CLIENTS = ['claude-desktop', 'claude-code', 'cursor', 'windsurf', 'vscode', 'gemini-cli', 'cline', 'zed', 'continue'];

/** What every client's copy of each fixture server must be reported as. */
const EXPECTED: Record<string, { risk: string; transport: string; notes: string[] }> = {
  unpinned: {
    risk: 'medium',
    transport: 'stdio',
    notes: ['unpinned package: npx runs @modelcontextprotocol/server-github without an exact version, so each start may fetch new code'],
  },
  pinned: { risk: 'low', transport: 'stdio', notes: [] },
  piped: { risk: 'high', transport: 'stdio', notes: ['shell pipe: the command downloads a script and runs it (e.g. curl … | sh)'] },
  plain: { risk: 'high', transport: 'http', notes: ['plain-HTTP remote: http://mcp.example.com/mcp is not encrypted (use https://)'] },
  secure: { risk: 'low', transport: 'sse', notes: [] },
  inline: {
    risk: 'high',
    transport: 'stdio',
    notes: [
      'secret in the config: env.OPENAI_API_KEY is written in the config (use an environment variable reference instead)',
      'secret in the config: args[2] (--api-key) is written in the config (use an environment variable reference instead)',
    ],
  },
  referenced: { risk: 'low', transport: 'stdio', notes: [] },
};

function checkAllClients(result: Awaited<ReturnType<typeof scanMcpConfigs>>, paths: Record<string, string>) {
  expect(result.skipped).toEqual([]);
  expect(result.clients.map((c) => c.client).sort()).toEqual([...CLIENTS].sort());
  const expectedIds = CLIENTS.flatMap((client) => Object.keys(SERVERS).map((name) => `mcp:${client}:${paths[client]}#${name}`));
  expect(result.findings.map((f) => f.id).sort()).toEqual(expectedIds.sort());
  for (const finding of result.findings) {
    const name = finding.id.split('#')[1];
    const want = EXPECTED[name];
    expect({ id: finding.id, risk: finding.risk, notes: finding.notes, transport: finding.details.transport }).toEqual({
      id: finding.id, risk: want.risk, notes: want.notes, transport: want.transport,
    });
    expect(finding.kind).toBe('mcp-server');
    expect(finding.status).toBe('unknown');
    expect(finding.details.contentHash).toMatch(/^hmac-sha256:[0-9a-f]{64}$/);
  }
  // The fake secret appears nowhere: not in notes, args, details or evidence.
  expect(JSON.stringify(result)).not.toContain(FAKE_SECRET);
}

describe('scanMcpConfigs: every client, every kind of server', () => {
  it('reads each client on Linux with exact ids, transports, risks and notes', async () => {
    const home = tempDir('ag-mcp-linux-');
    const paths = writeAllClients(home);
    const progress: string[] = [];
    const result = await scanMcpConfigs(options(home, { progress: (m) => progress.push(m) }));
    checkAllClients(result, paths);
    expect(result.findings).toHaveLength(63);
    expect(progress).toEqual(['MCP: 9 client(s) found, 63 server(s)']);
  });

  it.each<Layout>(['darwin', 'win32'])('reads the %s layout, and not the other platforms\' folders', async (layout) => {
    const home = tempDir(`ag-mcp-${layout}-`);
    const paths = writeAllClients(home, layout);
    // A Linux-only path under the same home must not be read for this platform.
    write(join(home, '.config', 'Claude', 'claude_desktop_config.json'), JSON.stringify({ mcpServers: { stray: { command: 'x' } } }));
    const result = await scanMcpConfigs(options(home, { platform: layout }));
    checkAllClients(result, paths);
    const base = layout === 'darwin' ? join(home, 'Library', 'Application Support') : join(home, 'AppData', 'Roaming');
    expect(paths['claude-desktop']).toBe(join(base, 'Claude', 'claude_desktop_config.json'));
    expect(paths.vscode).toBe(join(base, 'Code', 'User', 'mcp.json'));
    expect(result.findings.some((f) => f.id.endsWith('#stray'))).toBe(false);
  });

  it('reports evidence, masked args, names only, and stable content hashes', async () => {
    const home = tempDir('ag-mcp-details-');
    writeAllClients(home);
    const first = await scanMcpConfigs(options(home));
    const inline = first.findings.find((f) => f.id === `mcp:cursor:${join(home, '.cursor', 'mcp.json')}#inline`)!;
    expect(inline.name).toBe('inline (Cursor)');
    expect(inline.location).toBe(join(home, '.cursor', 'mcp.json'));
    expect(inline.evidence).toEqual(['~/.cursor/mcp.json: mcpServers.inline']);
    expect(inline.details).toMatchObject({
      client: 'cursor', scope: 'user', keyPath: 'mcpServers.inline', command: 'uvx',
      args: ['mcp-server-fetch==0.6.2', '--api-key', '***'], envNames: ['OPENAI_API_KEY'], headersNames: [],
    });
    const zed = first.findings.find((f) => f.id.startsWith('mcp:zed:') && f.id.endsWith('#plain'))!;
    expect(zed.evidence).toEqual(['~/.config/zed/settings.json: context_servers.plain']);
    expect(zed.details.url).toBe('http://mcp.example.com/mcp');
    const continued = first.findings.find((f) => f.id.startsWith('mcp:continue:') && f.id.endsWith('#piped'))!;
    expect(continued.evidence).toEqual(['~/.continue/config.yaml: mcpServers[2]']);

    // Same entries → same hashes; one changed entry → only its hash changes.
    const again = await scanMcpConfigs(options(home));
    expect(again.findings.map((f) => f.details.contentHash)).toEqual(first.findings.map((f) => f.details.contentHash));
    write(join(home, '.cursor', 'mcp.json'), JSON.stringify({ mcpServers: { ...SERVERS, pinned: { command: 'npx', args: ['-y', 'x@1.0.0'] } } }));
    const changed = await scanMcpConfigs(options(home));
    const hashOf = (r: typeof first, name: string) => r.findings.find((f) => f.id === `mcp:cursor:${join(home, '.cursor', 'mcp.json')}#${name}`)!.details.contentHash;
    expect(hashOf(changed, 'pinned')).not.toBe(hashOf(first, 'pinned'));
    expect(hashOf(changed, 'referenced')).toBe(hashOf(first, 'referenced'));
  });

  it('finds nothing and skips nothing in an empty home (no client installed)', async () => {
    const result = await scanMcpConfigs(options(tempDir('ag-mcp-empty-'), { paths: [tempDir('ag-mcp-proj-')] }));
    expect(result).toEqual({ findings: [], skipped: [], clients: [] });
  });
});

describe('scanMcpConfigs: Claude Code, VS Code settings and project configs', () => {
  it("reads Claude Code's per-project servers from ~/.claude.json", async () => {
    const home = tempDir('ag-mcp-cc-');
    const file = write(join(home, '.claude.json'), JSON.stringify({
      mcpServers: { github: { type: 'stdio', command: 'npx', args: ['-y', '@modelcontextprotocol/server-github@2025.4.8'] } },
      projects: {
        '/work/app': { allowedTools: [], mcpServers: { github: { type: 'http', url: 'https://api.example.com/mcp', headers: { Authorization: `Bearer ${FAKE_SECRET}` } } } },
        '/work/other': { allowedTools: [] },
      },
    }));
    const result = await scanMcpConfigs(options(home));
    expect(result.skipped).toEqual([]);
    expect(result.findings.map((f) => [f.id, f.evidence, f.risk, f.notes])).toEqual([
      [`mcp:claude-code:${file}#github`, ['~/.claude.json: mcpServers.github'], 'low', []],
      [
        `mcp:claude-code:${file}#projects[/work/app].github`,
        ['~/.claude.json: projects["/work/app"].mcpServers.github'],
        'high',
        ['secret in the config: headers.Authorization is written in the config (use an environment variable reference instead)'],
      ],
    ]);
    expect(result.findings[1].details).toMatchObject({ transport: 'http', url: 'https://api.example.com/mcp', headersNames: ['Authorization'] });
    expect(JSON.stringify(result)).not.toContain(FAKE_SECRET);
  });

  it('reads VS Code settings.json with comments and trailing commas, both key forms', async () => {
    const home = tempDir('ag-mcp-vscode-');
    const file = write(join(home, '.config', 'Code', 'User', 'settings.json'), `{
  // editor
  "editor.fontSize": 14, /* "mcp.servers": {"fake": {}} inside a comment */
  "http.proxy": "http://proxy.local:3128//not-a-comment",
  "mcp.servers": {
    "flat": { "type": "stdio", "command": "npx", "args": ["-y", "mcp-remote@latest", "https://x.example.com/mcp",], },
  },
  "mcp": {
    "servers": {
      "nested": { "type": "sse", "url": "https://user:${FAKE_SECRET}@x.example.com/sse?token=${FAKE_SECRET}", },
    },
  },
}
`);
    const result = await scanMcpConfigs(options(home));
    expect(result.skipped).toEqual([]);
    expect(result.findings.map((f) => [f.id, f.evidence, f.notes])).toEqual([
      [`mcp:vscode:${file}#flat`, ['~/.config/Code/User/settings.json: ["mcp.servers"].flat'],
        ['unpinned package: npx runs mcp-remote@latest without an exact version, so each start may fetch new code']],
      [`mcp:vscode:${file}#nested`, ['~/.config/Code/User/settings.json: mcp.servers.nested'],
        ['secret in the config: the url carries a credential (user info, a secret query parameter or a key in its path)']],
    ]);
    expect(result.findings[1].details.url).toBe('https://x.example.com/sse');
    expect(JSON.stringify(result)).not.toContain(FAKE_SECRET);
  });

  it('reads project configs under options.paths, once even when a path is the home folder', async () => {
    const home = tempDir('ag-mcp-home-');
    const project = tempDir('ag-mcp-project-');
    const server = { command: 'npx', args: ['-y', 'pkg@1.0.0'] };
    const files = {
      'claude-code': write(join(project, '.mcp.json'), JSON.stringify({ mcpServers: { s: server } })),
      cursor: write(join(project, '.cursor', 'mcp.json'), JSON.stringify({ mcpServers: { s: server } })),
      vscode: write(join(project, '.vscode', 'mcp.json'), JSON.stringify({ servers: { s: server } })),
      'gemini-cli': write(join(project, '.gemini', 'settings.json'), JSON.stringify({ mcpServers: { s: server } })),
    };
    write(join(home, '.cursor', 'mcp.json'), JSON.stringify({ mcpServers: { h: server } }));
    const result = await scanMcpConfigs(options(home, { paths: [project, home] }));
    expect(result.findings.map((f) => f.id).sort()).toEqual(
      [...Object.entries(files).map(([c, p]) => `mcp:${c}:${p}#s`), `mcp:cursor:${join(home, '.cursor', 'mcp.json')}#h`].sort(),
    );
    const projectCursor = result.findings.find((f) => f.id === `mcp:cursor:${files.cursor}#s`)!;
    expect(projectCursor.evidence).toEqual([`${files.cursor}: mcpServers.s`]);
    expect(projectCursor.details.scope).toBe('project');
    expect(mcpConfigLocations(options(home, { paths: [home] })).filter((l) => l.path === join(home, '.cursor', 'mcp.json'))).toHaveLength(1);
  });
});

describe('scanMcpConfigs: older config forms', () => {
  it("reads Zed's `command: { path, args, env }` and Continue's `experimental.modelContextProtocolServers`", async () => {
    const home = tempDir('ag-mcp-old-');
    const zed = write(join(home, '.config', 'zed', 'settings.json'), JSON.stringify({
      context_servers: { old: { command: { path: 'uvx', args: ['mcp-server-git'], env: { GITHUB_TOKEN: FAKE_SECRET } }, settings: {} } },
    }));
    const cont = write(join(home, '.continue', 'config.json'), JSON.stringify({
      experimental: { modelContextProtocolServers: [{ transport: { type: 'stdio', command: 'npx', args: ['-y', 'pkg@3.1.4'] } }] },
    }));
    const result = await scanMcpConfigs(options(home));
    expect(result.skipped).toEqual([]);
    expect(result.findings.map((f) => [f.id, f.evidence, f.details.transport, f.details.command, f.details.envNames, f.notes])).toEqual([
      [`mcp:zed:${zed}#old`, ['~/.config/zed/settings.json: context_servers.old'], 'stdio', 'uvx', ['GITHUB_TOKEN'], [
        'secret in the config: env.GITHUB_TOKEN is written in the config (use an environment variable reference instead)',
        'unpinned package: uvx runs mcp-server-git without an exact version, so each start may fetch new code',
      ]],
      [`mcp:continue:${cont}#experimental.#0`, ['~/.continue/config.json: experimental.modelContextProtocolServers[0]'], 'stdio', 'npx', [], []],
    ]);
    expect(JSON.stringify(result)).not.toContain(FAKE_SECRET);
  });
});

describe('scanMcpConfigs: what it could not inspect', () => {
  it('reports malformed JSON, JSONC and YAML with line:column, and goes on', async () => {
    const home = tempDir('ag-mcp-bad-');
    const cursor = write(join(home, '.cursor', 'mcp.json'), '{\n  "mcpServers": {\n    "a": { "command": "npx", }\n  }\n}\n');
    const zed = write(join(home, '.config', 'zed', 'settings.json'), '{\n  // ok\n  "context_servers" {}\n}\n');
    const cont = write(join(home, '.continue', 'config.yaml'), 'mcpServers:\n  - name: a\n    args: [1, 2\nname: x\n');
    const windsurf = write(join(home, '.codeium', 'windsurf', 'mcp_config.json'), JSON.stringify({ mcpServers: { ok: { command: 'node' } } }));
    const result = await scanMcpConfigs(options(home));
    expect(result.skipped).toEqual([
      { what: cursor, reason: 'malformed: Expected double-quoted property name at 3:30' },
      { what: zed, reason: "malformed: Expected ':' after property name at 3:21" },
      { what: cont, reason: expect.stringMatching(/^malformed: .+ at 4:1$/) },
    ]);
    expect(result.findings.map((f) => f.id)).toEqual([`mcp:windsurf:${windsurf}#ok`]);
    // A client whose only config cannot be parsed is still installed.
    expect(result.clients.map((c) => c.client).sort()).toEqual(['continue', 'cursor', 'windsurf', 'zed']);
  });

  it('reports unexpected shapes but keeps the good servers of the same file', async () => {
    const home = tempDir('ag-mcp-shape-');
    const desktop = write(join(home, '.config', 'Claude', 'claude_desktop_config.json'), JSON.stringify({ mcpServers: [] }));
    const cursor = write(join(home, '.cursor', 'mcp.json'), JSON.stringify({ mcpServers: { broken: 'npx foo', good: { command: 'node' } } }));
    const gemini = write(join(home, '.gemini', 'settings.json'), '[1, 2]');
    const claude = write(join(home, '.claude.json'), JSON.stringify({ projects: 'nope' }));
    const result = await scanMcpConfigs(options(home));
    expect(result.skipped).toEqual([
      { what: desktop, reason: 'unexpected shape: mcpServers is not an object' },
      { what: claude, reason: 'unexpected shape: projects is not an object' },
      { what: cursor, reason: 'unexpected shape: mcpServers.broken is not an object' },
      { what: gemini, reason: 'unexpected shape: the top level is not an object' },
    ]);
    expect(result.findings.map((f) => f.id)).toEqual([`mcp:cursor:${cursor}#good`]);
  });

  it.skipIf(process.getuid?.() === 0)('reports a config it may not read (chmod 000) as permission denied', async () => {
    const home = tempDir('ag-mcp-perm-');
    const file = write(join(home, '.cursor', 'mcp.json'), JSON.stringify({ mcpServers: { a: { command: 'node' } } }));
    chmodSync(file, 0o000);
    try {
      const result = await scanMcpConfigs(options(home));
      expect(result.skipped).toEqual([{ what: file, reason: 'permission denied' }]);
      expect(result.findings).toEqual([]);
    } finally {
      chmodSync(file, 0o600);
    }
  });

  it('reports EACCES and other read errors from the reader as skipped, and ENOENT as not installed', async () => {
    const home = tempDir('ag-mcp-inject-');
    const paths = writeAllClients(home);
    const fail = (code: string) => Object.assign(new Error(`${code}: simulated`), { code });
    const readFile = async (path: string) => {
      if (path === paths.cursor) throw fail('EACCES');
      if (path === paths.windsurf) throw fail('EPERM');
      if (path === paths.zed) throw fail('EIO');
      if (path === paths.cline) throw fail('ENOENT');
      const { readFile: real } = await import('node:fs/promises');
      return real(path, 'utf8');
    };
    const result = await scanMcpConfigs(options(home), { readFile });
    expect(result.skipped).toEqual([
      { what: paths.cursor, reason: 'permission denied' },
      { what: paths.windsurf, reason: 'permission denied' },
      { what: paths.zed, reason: 'unreadable: EIO' },
    ]);
    expect(result.findings).toHaveLength(7 * 5);
    expect(result.clients.map((c) => c.client)).not.toContain('cline');
    expect(result.clients.map((c) => c.client)).toContain('cursor');
  });

  it('reports a folder where a config file should be as unreadable', async () => {
    const home = tempDir('ag-mcp-dir-');
    mkdirSync(join(home, '.cursor', 'mcp.json'), { recursive: true });
    const result = await readConfig({ client: 'cursor', path: join(home, '.cursor', 'mcp.json'), syntax: 'json', shape: 'mcpServers', scope: 'user' });
    expect(result).toEqual({ state: 'skipped', reason: 'unreadable: it is a folder, not a file' });
  });
});

describe('risk rules', () => {
  const pkgs = (command: string, ...args: string[]) => runnerPackages(commandTokens(command, args));

  it('finds the package each runner fetches', () => {
    expect(pkgs('npx', '-y', '@scope/pkg', '--flag')).toEqual({ runner: 'npx', ecosystem: 'npm', packages: ['@scope/pkg'] });
    expect(pkgs('/usr/local/bin/npx.cmd', '--package=a@1.0.0', 'bin-a')).toEqual({ runner: 'npx', ecosystem: 'npm', packages: ['a@1.0.0'] });
    expect(pkgs('cmd', '/c', 'npx', '-y', 'win-pkg')?.packages).toEqual(['win-pkg']);
    expect(pkgs('pnpm', 'dlx', 'p@^1.0.0')).toEqual({ runner: 'pnpm dlx', ecosystem: 'npm', packages: ['p@^1.0.0'] });
    expect(pkgs('bunx', 'b')?.packages).toEqual(['b']);
    expect(pkgs('npm', 'exec', '--', 'e@2.0.0')?.packages).toEqual(['e@2.0.0']);
    expect(pkgs('uvx', '--from', 'tool==1.0', 'tool-cli')).toEqual({ runner: 'uvx', ecosystem: 'pypi', packages: ['tool==1.0'] });
    expect(pkgs('uvx', '--python', '3.12', 'mcp-server-git')?.packages).toEqual(['mcp-server-git']);
    expect(pkgs('bash', '-c', 'npx -y inner')?.packages).toEqual(['inner']);
    expect(pkgs('node', 'server.js')).toBeUndefined();
  });

  it.each<[string, 'npm' | 'pypi', boolean | undefined]>([
    ['pkg@1.2.3', 'npm', true],
    ['@scope/pkg@1.2.3-beta.1', 'npm', true],
    ['pkg', 'npm', false],
    ['@scope/pkg', 'npm', false],
    ['pkg@latest', 'npm', false],
    ['pkg@^1.2.3', 'npm', false],
    ['pkg@~1.2', 'npm', false],
    ['pkg@1', 'npm', false],
    ['./local-server', 'npm', undefined],
    ['github:owner/repo', 'npm', undefined],
    ['tool==1.0.2', 'pypi', true],
    ['tool@0.6.0', 'pypi', true],
    ['tool[extra]==2.0', 'pypi', true],
    ['tool', 'pypi', false],
    ['tool@latest', 'pypi', false],
    ['tool>=1.0', 'pypi', false],
  ])('pinned(%s, %s) is %s', (spec, eco, pinned) => {
    expect(isPinned(spec, eco)).toBe(pinned);
  });

  it('spots shell pipes, and not ordinary downloads', () => {
    for (const text of ['curl -fsSL https://x.sh | sh', 'wget -qO- https://x | sudo bash', 'bash -c "$(curl -fsSL https://x)"', 'bash <(curl -s https://x)', 'iwr https://x/i.ps1 | iex', 'iex (irm https://x)'])
      expect(hasShellPipe(text), text).toBe(true);
    for (const text of ['curl -o file https://x', 'npx -y pkg', 'sh ./install.sh', 'cat x | sort'])
      expect(hasShellPipe(text), text).toBe(false);
  });

  it('flags plain HTTP only for non-loopback hosts', () => {
    expect(isPlainHttpRemote('http://mcp.example.com/mcp')).toBe(true);
    expect(isPlainHttpRemote('http://10.0.0.5:8080/sse')).toBe(true);
    for (const url of ['http://localhost:3000/mcp', 'http://127.0.0.1:8080/sse', 'http://[::1]:9000/mcp', 'https://mcp.example.com/mcp'])
      expect(isPlainHttpRemote(url), url).toBe(false);
  });

  it('judges secrets by name and literal value, never a reference', () => {
    expect(holdsSecret('OPENAI_API_KEY', FAKE_SECRET)).toBe(true);
    expect(holdsSecret('Authorization', 'Bearer abcdef123456')).toBe(true);
    expect(holdsSecret('DB_PASSWORD', 'hunter2')).toBe(true);
    for (const [name, value] of [['OPENAI_API_KEY', '${OPENAI_API_KEY}'], ['GITHUB_TOKEN', '${env:GITHUB_TOKEN}'], ['Authorization', 'Bearer ${input:token}'],
      ['API_KEY', '${{ secrets.API_KEY }}'], ['API_KEY', '$API_KEY'], ['API_KEY', ''], ['AUTH_ENABLED', 'true'], ['SSH_KEY_PATH', '/home/me/.ssh/id'], ['LOG_LEVEL', 'debug']])
      expect(holdsSecret(name, value), `${name}=${value}`).toBe(false);
  });

  it('masks secret arguments and cleans URLs', () => {
    expect(maskArgs(['--token', 'abcdef', '--api-key=xyz123', '-e', 'GITHUB_TOKEN=ghx', 'ghp_abcdefghijklmnopqrstuvwxyz', '--port', '80', 'https://u:p4ssw0rd@h.example.com/x?key=abc'])).toEqual({
      args: ['--token', '***', '--api-key=***', '-e', 'GITHUB_TOKEN=***', '***', '--port', '80', 'https://***@h.example.com/x?key=***'],
      secrets: ['args[1] (--token)', 'args[2] (--api-key)', 'args[4] (GITHUB_TOKEN)', 'args[5]', 'args[8] (URL)'],
    });
    expect(maskArgs(['-c', 'OPENAI_API_KEY=abcdef123 node s.js --token  xyz789abc'])).toEqual({
      args: ['-c', 'OPENAI_API_KEY=*** node s.js --token  ***'],
      secrets: ['args[1] (script)'],
    });
    expect(maskArgs(['--header', 'Authorization: Bearer abcdef123', '--header', 'Authorization:${AUTH_HEADER}', '--header=X-Api-Key: k3y-value', '--api-key=two words'])).toEqual({
      args: ['--header', 'Authorization: ***', '--header', 'Authorization:${AUTH_HEADER}', '--header=X-Api-Key: ***', '--api-key=***'],
      secrets: ['args[1] (Authorization header)', 'args[4] (--header)', 'args[5] (--api-key)'],
    });
    expect(sanitizeUrl('https://h.example.com/mcp?region=eu')).toEqual({ url: 'https://h.example.com/mcp', secret: false });
    expect(sanitizeUrl('https://${input:host}/mcp?api_key=abc')).toEqual({ url: 'https://${input:host}/mcp', secret: true });
  });

  it('flags broad permissions', async () => {
    const home = tempDir('ag-mcp-broad-');
    write(join(home, '.config', 'Code', 'User', 'globalStorage', 'saoudrizwan.claude-dev', 'settings', 'cline_mcp_settings.json'), JSON.stringify({
      mcpServers: {
        fsRoot: { command: 'npx', args: ['-y', '@modelcontextprotocol/server-filesystem@2025.7.1', '/'] },
        fsHome: { command: 'npx', args: ['-y', '@modelcontextprotocol/server-filesystem@2025.7.1', `${home}/`, '~'] },
        fsProject: { command: 'npx', args: ['-y', '@modelcontextprotocol/server-filesystem@2025.7.1', '/work/app'] },
        approved: { command: 'node', args: ['s.js'], alwaysAllow: ['read', 'write'], disabled: true },
        docker: { command: 'docker', args: ['run', '-i', '--rm', '--privileged', '-v', '/var/run/docker.sock:/var/run/docker.sock', 'img@sha256:abc'] },
      },
    }));
    write(join(home, '.gemini', 'settings.json'), JSON.stringify({ mcpServers: { trusted: { command: 'node', args: ['s.js'], trust: true } } }));
    const result = await scanMcpConfigs(options(home));
    const byName = Object.fromEntries(result.findings.map((f) => [f.id.split('#')[1], [f.risk, f.notes]]));
    expect(byName).toEqual({
      fsRoot: ['medium', ['broad permissions: the filesystem server can reach / (the whole disk)']],
      fsHome: ['medium', [`broad permissions: the filesystem server can reach ${home}/ (the home folder)`, 'broad permissions: the filesystem server can reach ~ (the home folder)']],
      fsProject: ['low', []],
      approved: ['medium', ['broad permissions: alwaysAllow runs 2 tool(s) without asking (read, write)']],
      docker: ['medium', ['broad permissions: the docker container runs --privileged', 'broad permissions: the docker container mounts the Docker socket (/var/run/docker.sock)']],
      trusted: ['medium', ['broad permissions: "trust": true skips every tool confirmation']],
    });
    const approved = result.findings.find((f) => f.id.endsWith('#approved'))!;
    expect(approved.details.disabled).toBe(true);
    expect(approved.evidence).toContain('disabled in the config');
  });
});
