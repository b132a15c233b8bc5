import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { beforeEach, describe, expect, it } from 'vitest';
import { installServers, uninstallServers, type InstallTarget } from '../src/mcp/install/install.js';
import { AGENTGUARD_BIN, unwrapLaunch, wrapLaunch } from '../src/mcp/install/wrapped.js';
import { ROOT } from './helpers/cli.js';
import { runCliInProcess } from './helpers/cli-in-process.js';
import { makeTempDir } from './helpers/temp-dirs.js';

const CLAUDE = `{
  "mcpServers": {
    "files": {
      "command": "npx",
      "args": ["-y", "@modelcontextprotocol/server-filesystem", "/srv/docs"]
    },
    "github": {
      "command": "docker",
      "args": ["run", "-i", "ghcr.io/github/github-mcp-server"],
      "env": { "GITHUB_PERSONAL_ACCESS_TOKEN": "ghp_abcdefghijklmnopqrstuvwxyz0123456789" }
    },
    "remote": { "url": "https://mcp.example.com/mcp" }
  }
}
`;

const VSCODE = `// VS Code MCP servers
{
\t"servers": {
\t\t// the notes server, local
\t\t"notes": {
\t\t\t"type": "stdio",
\t\t\t"command": "node",
\t\t\t"args": ["/opt/notes/server.js", "--root", "~/notes"], // keep this comment
\t\t},
\t\t"web": { "type": "http", "url": "https://example.com/mcp", },
\t},
}
`;

let root: string;
let home: string;
let project: string;
let claudePath: string;
let vscodePath: string;
let policy: string;

beforeEach(() => {
  root = makeTempDir('ag-mcp-install-');
  home = join(root, 'home');
  project = join(root, 'project');
  mkdirSync(project, { recursive: true });
  claudePath = join(home, '.config', 'Claude', 'claude_desktop_config.json');
  vscodePath = join(home, '.config', 'Code', 'User', 'mcp.json');
  mkdirSync(join(home, '.config', 'Claude'), { recursive: true });
  mkdirSync(join(home, '.config', 'Code', 'User'), { recursive: true });
  writeFileSync(claudePath, CLAUDE);
  writeFileSync(vscodePath, VSCODE);
  policy = join(project, 'policy.yaml');
  writeFileSync(policy, readFileSync(join(ROOT, 'policies/mcp-gateway/policy.yaml')));
});

const env = () => ({ HOME: home, XDG_CONFIG_HOME: join(home, '.config') });
const cli = (...args: string[]) => runCliInProcess(['mcp', ...args], { cwd: project, env: env() });
const json = (stdout: string) => JSON.parse(stdout);

describe('agentguard mcp install / uninstall', () => {
  it('wraps only the chosen Claude Desktop server, shows the diff, keeps a backup, and uninstall restores the bytes', async () => {
    const result = await cli('install', 'claude-desktop', '--server', 'files', '--policy', policy);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('@@');
    expect(result.stdout).toMatch(/^-\s+"command": "npx",$/m);
    expect(result.stdout).toContain('files: now runs through agentguard mcp wrap');

    const after = JSON.parse(readFileSync(claudePath, 'utf8'));
    expect(after.mcpServers.files).toEqual({
      command: process.execPath,
      args: [AGENTGUARD_BIN, 'mcp', 'wrap', '--name', 'files', '--project', project, '--policy', policy, '--', 'npx', '-y', '@modelcontextprotocol/server-filesystem', '/srv/docs'],
    });
    expect(after.mcpServers.github).toEqual(JSON.parse(CLAUDE).mcpServers.github);
    expect(after.mcpServers.remote).toEqual({ url: 'https://mcp.example.com/mcp' });
    // Only the files entry's lines changed.
    const changed = readFileSync(claudePath, 'utf8').split('\n');
    expect(changed.slice(0, 3)).toEqual(CLAUDE.split('\n').slice(0, 3));
    expect(changed.slice(-10)).toEqual(CLAUDE.split('\n').slice(-10));
    expect(existsSync(`${claudePath}.agentguard-backup`)).toBe(true);

    const again = await cli('install', 'claude-desktop', '--server', 'files', '--policy', policy, '--json');
    expect(again.code).toBe(0);
    const report = json(again.stdout);
    expect(report.configs[0]).toMatchObject({ changed: false, written: false, diff: '', servers: [{ server: 'files', outcome: 'already-wrapped' }] });

    const undo = await cli('uninstall', 'claude-desktop', '--all', '--json');
    expect(undo.code, undo.stderr).toBe(0);
    expect(json(undo.stdout).configs[0]).toMatchObject({ restored: 'bytes', written: true });
    expect(readFileSync(claudePath, 'utf8')).toBe(CLAUDE);
    expect(existsSync(`${claudePath}.agentguard-backup`)).toBe(false);
  });

  it('wraps a URL server through mcp wrap --upstream and masks secrets in the diff', async () => {
    // Contract changed with `mcp wrap --upstream`: URL (Streamable HTTP) servers are wrapped, no longer skipped.
    const result = await cli('install', 'claude-desktop', '--all', '--dry-run', '--policy', policy, '--json');
    expect(result.code, result.stderr).toBe(0);
    const config = json(result.stdout).configs[0];
    expect(config.servers).toEqual([
      { server: 'files', keyPath: 'mcpServers.files', outcome: 'wrapped' },
      { server: 'github', keyPath: 'mcpServers.github', outcome: 'wrapped' },
      { server: 'remote', keyPath: 'mcpServers.remote', outcome: 'wrapped', note: 'Streamable HTTP, reached through --upstream' },
    ]);
    expect(config.diff).toContain('"--upstream"');
    expect(config.diff).not.toContain('ghp_abcdefghijklmnopqrstuvwxyz0123456789');
    expect(config.diff).toContain('GITHUB_PERSONAL_ACCESS_TOKEN');
  });

  it('--dry-run shows the diff and writes nothing', async () => {
    const result = await cli('install', 'vscode', '--all', '--dry-run', '--policy', policy);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('+\t\t\t"command": ');
    expect(result.stdout).toContain('dry run: nothing written');
    expect(readFileSync(vscodePath, 'utf8')).toBe(VSCODE);
    expect(existsSync(`${vscodePath}.agentguard-backup`)).toBe(false);
  });

  it('keeps the comments, tabs and trailing commas of a VS Code JSONC config, and restores it byte for byte', async () => {
    const result = await cli('install', 'vscode', '--server', 'notes', '--policy', policy);
    expect(result.code, result.stderr).toBe(0);
    const text = readFileSync(vscodePath, 'utf8');
    expect(text).toContain('// VS Code MCP servers');
    expect(text).toContain('// the notes server, local');
    expect(text).toContain('// keep this comment');
    expect(text).toContain('\t\t"web": { "type": "http", "url": "https://example.com/mcp", },');
    expect(text).toContain(`\t\t\t"command": ${JSON.stringify(process.execPath)},`);
    // A one-line args array stays on one line.
    expect(text).toContain(`\t\t\t"args": [${JSON.stringify(AGENTGUARD_BIN)}, "mcp", "wrap", "--name", "notes", "--project", ${JSON.stringify(project)}, "--policy", ${JSON.stringify(policy)}, "--", "node", "/opt/notes/server.js", "--root", "~/notes"], // keep this comment`);
    expect(text).not.toMatch(/^ +/m);

    expect((await cli('install', 'vscode', '--server', 'notes', '--policy', policy)).stdout).toContain('unchanged');
    expect(readFileSync(vscodePath, 'utf8')).toBe(text);

    const undo = await cli('uninstall', 'vscode', '--server', 'notes');
    expect(undo.code, undo.stderr).toBe(0);
    expect(undo.stdout).toContain('restored byte for byte');
    expect(readFileSync(vscodePath, 'utf8')).toBe(VSCODE);
  });

  it('uninstall of a config edited since install unwraps just the wrapped entries and says so', async () => {
    expect((await cli('install', 'vscode', '--server', 'notes', '--policy', policy)).code).toBe(0);
    const edited = readFileSync(vscodePath, 'utf8').replace('// VS Code MCP servers', '// VS Code MCP servers (edited by hand)');
    writeFileSync(vscodePath, edited);
    const undo = await cli('uninstall', 'vscode', '--all');
    expect(undo.code, undo.stderr).toBe(0);
    expect(undo.stdout).toContain('edited since install');
    const text = readFileSync(vscodePath, 'utf8');
    expect(text).toContain('(edited by hand)');
    expect(text).not.toContain('"wrap"');
    expect(text).toContain('\t\t\t"command": "node",');
    expect(text).toContain('// keep this comment');
  });

  it('refuses a config it cannot parse: exit code non-zero, file untouched, no backup', async () => {
    const broken = CLAUDE.replace('"files": {', '"files": {,');
    writeFileSync(claudePath, broken);
    const result = await cli('install', 'claude-desktop', '--all', '--policy', policy);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('MCP_CLIENT_CONFIG_UNREADABLE');
    expect(result.stderr).toMatch(/at \d+:\d+/);
    expect(readFileSync(claudePath, 'utf8')).toBe(broken);
    expect(existsSync(`${claudePath}.agentguard-backup`)).toBe(false);
  });

  it('refuses to wrap without a policy that loads (every call would be denied), writing nothing', async () => {
    const none = await cli('install', 'claude-desktop', '--all');
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('no agentguard policy here');
    writeFileSync(policy, 'rules: [\n');
    const broken = await cli('install', 'claude-desktop', '--all', '--policy', policy);
    expect(broken.code).not.toBe(0);
    expect(readFileSync(claudePath, 'utf8')).toBe(CLAUDE);
    expect(existsSync(`${claudePath}.agentguard-backup`)).toBe(false);
  });

  it('names the servers found when the one asked for is not there, and requires a choice', async () => {
    const missing = await cli('install', 'claude-desktop', '--server', 'nope', '--policy', policy);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('MCP_SERVER_NOT_FOUND');
    expect(missing.stderr).toContain('files, github, remote');
    const none = await cli('install', 'claude-desktop');
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('--all');
    const noConfig = await cli('install', 'cursor', '--all', '--policy', policy);
    expect(noConfig.code).toBe(1);
    expect(noConfig.stderr).toContain('MCP_CLIENT_CONFIG_NOT_FOUND');
  });

  it('scan reports a wrapped server as secured, by the command it wraps', async () => {
    expect((await cli('install', 'claude-desktop', '--server', 'files', '--policy', policy)).code).toBe(0);
    const dataDir = join(root, 'data');
    const result = await runCliInProcess(['scan', '--home', home, '--path', project, '--data-dir', dataDir, '--json'], { cwd: project, env: env() });
    expect(result.code, result.stderr).toBe(0);
    const findings = json(result.stdout).findings as Array<{ kind: string; name: string; status: string; evidence: string[]; details: Record<string, unknown> }>;
    const files = findings.find((f) => f.kind === 'mcp-server' && f.name.startsWith('files '));
    const github = findings.find((f) => f.kind === 'mcp-server' && f.name.startsWith('github '));
    expect(files).toMatchObject({ status: 'secured', details: { command: 'npx', args: ['-y', '@modelcontextprotocol/server-filesystem', '/srv/docs'], gateway: { kind: 'agentguard mcp wrap', name: 'files', project, policy } } });
    expect(files!.evidence).toContain('secured: runs through agentguard mcp wrap');
    expect(github?.status).toBe('unknown');
  });
});

describe('reading a wrapped launch line', () => {
  it('recognises agentguard, npx agentguard and node …/bin/run.js', () => {
    expect(unwrapLaunch('agentguard', ['mcp', 'wrap', '--name', 'x', '--project', '/p', '--', 'node', 's.js'])).toEqual({ name: 'x', project: '/p', command: 'node', args: ['s.js'] });
    expect(unwrapLaunch('npx', ['-y', 'agentguard@1.2.0', 'mcp', 'wrap', '-p', '/p.yaml', '--', 'uvx', 'srv'])).toEqual({ policy: '/p.yaml', command: 'uvx', args: ['srv'] });
    expect(unwrapLaunch('/usr/bin/node', ['/opt/agentguard/bin/run.js', 'mcp', 'wrap', '--name=y', '--approval-wait', '5000', '--', 'srv'])).toEqual({ name: 'y', command: 'srv', args: [] });
    expect(unwrapLaunch('npx', ['-y', '@modelcontextprotocol/server-filesystem'])).toBeUndefined();
    expect(unwrapLaunch('agentguard', ['mcp', 'pin', '--', 'srv'])).toBeUndefined();
    expect(unwrapLaunch('agentguard', ['mcp', 'wrap', '--name', 'x'])).toBeUndefined();
  });

  it('unwraps what it wraps (property)', () => {
    const word = fc.string({ minLength: 1, maxLength: 12 }).filter((s) => s.trim() === s && !/\s/.test(s));
    fc.assert(
      fc.property(word, word.filter((c) => !c.startsWith('-')), fc.array(fc.string({ maxLength: 10 }), { maxLength: 5 }), fc.option(word, { nil: undefined }), (name, command, args, pol) => {
        const launch = wrapLaunch(name, { command, args }, pol === undefined ? {} : { policy: pol });
        expect(unwrapLaunch(launch.command, launch.args)).toEqual({ name, ...(pol === undefined ? {} : { policy: pol }), command, args });
      }),
    );
  });
});

describe('install then uninstall is the identity (property)', () => {
  const key = fc.string({ minLength: 1, maxLength: 8 }).filter((k) => k !== '__proto__');
  const server = fc.oneof(
    fc.record({ command: fc.string({ minLength: 1, maxLength: 10 }).filter((c) => c.trim() !== ''), args: fc.array(fc.string({ maxLength: 10 }), { maxLength: 4 }) }),
    fc.record({ command: fc.string({ minLength: 1, maxLength: 10 }).filter((c) => c.trim() !== '') }),
    fc.record({ url: fc.webUrl() }),
  );
  const config = fc.record({ mcpServers: fc.dictionary(key, server, { maxKeys: 5 }), other: fc.option(fc.jsonValue({ maxDepth: 2 }), { nil: undefined }) });

  it('restores any generated Claude Desktop config byte for byte, whatever its indentation', async () => {
    const dir = makeTempDir('ag-mcp-install-prop-');
    const target: InstallTarget = { client: 'claude-desktop', home: dir, platform: 'linux', cwd: dir };
    const path = join(dir, '.config', 'Claude', 'claude_desktop_config.json');
    mkdirSync(join(dir, '.config', 'Claude'), { recursive: true });
    await fc.assert(
      fc.asyncProperty(config, fc.constantFrom(0, 2, 4, '\t'), fc.boolean(), async (value, indent, crlf) => {
        let text = `${JSON.stringify(value, null, indent)}\n`;
        if (crlf) text = text.replace(/\n/g, '\r\n');
        writeFileSync(path, text);
        const installed = await installServers(target, { choice: { all: true }, dryRun: false, policy: '/etc/agentguard/policy.yaml' });
        // stdio servers, and URL servers unless their URL names the old SSE transport (…/sse), which is not wrapped.
        const wrappable = Object.values(value.mcpServers).filter((s) => 'command' in s || !/\/sse\/?(?:[?#].*)?$/.test(s.url)).length;
        expect(installed.configs[0].servers.filter((s) => s.outcome === 'wrapped')).toHaveLength(wrappable);
        await uninstallServers(target, { choice: { all: true }, dryRun: false });
        expect(readFileSync(path, 'utf8')).toBe(text);
        expect(existsSync(`${path}.agentguard-backup`)).toBe(false);
      }),
      { numRuns: 60 },
    );
  });

  it('unwrapping in place (no backup) gives back the same servers', async () => {
    const dir = makeTempDir('ag-mcp-install-prop2-');
    const target: InstallTarget = { client: 'claude-desktop', home: dir, platform: 'linux', cwd: dir };
    const path = join(dir, '.config', 'Claude', 'claude_desktop_config.json');
    mkdirSync(join(dir, '.config', 'Claude'), { recursive: true });
    await fc.assert(
      // A whole command line in `command` ("npx -y pkg") is split when wrapped, so only the backup gives it back as written.
      fc.asyncProperty(config.filter((v) => Object.values(v.mcpServers).every((s) => !('command' in s) || !/\s/.test(s.command.trim()))), async (value) => {
        writeFileSync(path, JSON.stringify(value, null, 2));
        await installServers(target, { choice: { all: true }, dryRun: false });
        // Without the backup, uninstall can only unwrap the entries.
        rmSync(`${path}.agentguard-backup`, { force: true });
        await uninstallServers(target, { choice: { all: true }, dryRun: false });
        const back = JSON.parse(readFileSync(path, 'utf8'));
        const expected = JSON.parse(JSON.stringify(value));
        // A server written without args comes back without args; one with empty args comes back without them too.
        for (const s of Object.values(expected.mcpServers) as Array<Record<string, unknown>>) if (Array.isArray(s.args) && s.args.length === 0) delete s.args;
        expect(back).toEqual(expected);
      }),
      { numRuns: 40 },
    );
  });
});
