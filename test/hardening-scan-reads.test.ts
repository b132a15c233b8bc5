import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { scanMcpConfigs } from '../src/scan/mcp/index.js';
import { scanProjects } from '../src/scan/projects.js';
import { runScan, type ScanResult } from '../src/scan/run-scan.js';
import type { ScanOptions } from '../src/scan/types.js';
import { runCliInProcess } from './helpers/cli-in-process.js';
import { makeTempDir } from './helpers/temp-dirs.js';

const roots: string[] = [];
afterAll(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});
function tempRoot(): string {
  const dir = makeTempDir('ag-reads-');
  roots.push(dir);
  return dir;
}
function write(path: string, text: string): void {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, text);
}
function mkfifo(path: string): void {
  mkdirSync(join(path, '..'), { recursive: true });
  const made = spawnSync('mkfifo', [path]);
  if (made.status !== 0) throw new Error(`mkfifo ${path} failed: ${made.stderr}`);
}

const options = (home: string, extra: Partial<ScanOptions> = {}): ScanOptions => ({
  home, paths: [], probe: false, platform: 'linux', procRoot: '/proc', probeTimeoutMs: 100, pids: [], ...extra,
});

describe.runIf(process.platform !== 'win32')('a FIFO where a config or manifest is expected', () => {
  it('is not read (the scan does not wait on it) and is listed as not inspected, with the reason', async () => {
    const root = tempRoot();
    const home = join(root, 'home');
    const project = join(root, 'src', 'bot');
    mkfifo(join(home, '.cursor', 'mcp.json'));
    mkfifo(join(home, '.continue', 'mcpServers', 'stuck.yaml'));
    write(join(project, 'requirements.txt'), 'langchain==0.3.0\n-r more.txt\n');
    mkfifo(join(project, 'more.txt'));
    mkfifo(join(project, 'package.json'));
    const result = await runScan(options(home, { paths: [join(root, 'src')] }));
    const fifoSkips = result.skipped.filter((s) => /FIFO/.test(s.reason));
    expect(fifoSkips.map((s) => s.what).sort()).toEqual(
      [join(home, '.cursor', 'mcp.json'), join(home, '.continue', 'mcpServers', 'stuck.yaml'), join(project, 'more.txt'), join(project, 'package.json')].sort(),
    );
    // What could be read still is: the requirements file's LangChain.
    expect(result.findings.find((f) => f.id === `project:${project}`)?.frameworks.map((f) => f.name)).toContain('LangChain');
  }, 30_000);

  it('the CLI finishes, exits 1 for the unsecured project, and the table lists the FIFO under NOT INSPECTED', async () => {
    const root = tempRoot();
    const home = join(root, 'home');
    const project = join(root, 'bot');
    mkfifo(join(home, '.cursor', 'mcp.json'));
    write(join(project, 'package.json'), JSON.stringify({ name: 'bot', dependencies: { langchain: '^0.3.0' } }));
    const result = await runCliInProcess(['scan', '--home', home, '--path', project, '--no-probe', '--data-dir', join(root, 'data')], { cwd: root });
    expect(result.code, result.stderr).toBe(1);
    const notInspected = result.stdout.slice(result.stdout.indexOf('NOT INSPECTED'));
    expect(notInspected).toContain(`${join(home, '.cursor', 'mcp.json')}: not read: it is a FIFO (named pipe), not a regular file`);
  }, 60_000);
});

describe('a config over the size cap', () => {
  it('is not read, and says so', async () => {
    const home = join(tempRoot(), 'home');
    write(join(home, '.cursor', 'mcp.json'), `{"mcpServers":{},"pad":"${'x'.repeat(5 * 1024 * 1024)}"}`);
    const result = await scanMcpConfigs(options(home));
    expect(result.skipped).toEqual([{ what: join(home, '.cursor', 'mcp.json'), reason: expect.stringMatching(/^not read: 5,242,\d+ bytes is over the 4,194,304-byte limit$/) }]);
  });
});

describe('scan --path that is not a folder', () => {
  it('exits 2 with a clear error for a missing path and for a file', async () => {
    const root = tempRoot();
    write(join(root, 'file.txt'), 'x');
    const missing = await runCliInProcess(['scan', '--home', root, '--path', join(root, 'nope'), '--no-probe', '--data-dir', join(root, 'data')], { cwd: root });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain(`${join(root, 'nope')} does not exist`);
    const file = await runCliInProcess(['scan', '--home', root, '--path', join(root, 'file.txt'), '--no-probe', '--data-dir', join(root, 'data')], { cwd: root });
    expect(file.code).toBe(2);
    expect(file.stderr).toContain(`${join(root, 'file.txt')} is not a folder`);
  }, 60_000);
});

const server = (name: string) => ({ mcpServers: { [name]: { command: 'npx', args: ['-y', `@acme/${name}@1.0.0`] } } });
const mcpIds = (result: { findings: ScanResult['findings'] }) => result.findings.filter((f) => f.kind === 'mcp-server').map((f) => f.id).sort();

describe('where MCP configs are looked for', () => {
  it('reads project MCP configs in every project folder the walk finds, not only at the --path root', async () => {
    const root = tempRoot();
    const src = join(root, 'src');
    write(join(src, 'a', 'package.json'), '{"name":"a"}');
    write(join(src, 'a', '.mcp.json'), JSON.stringify(server('alpha')));
    write(join(src, 'team', 'b', '.cursor', 'mcp.json'), JSON.stringify(server('beta')));
    write(join(src, 'team', 'c', '.vscode', 'mcp.json'), JSON.stringify({ servers: { gamma: { command: 'node', args: ['g.js'] } } }));
    const result = await runScan(options(join(root, 'home'), { paths: [src] }));
    expect(mcpIds(result)).toEqual([
      `mcp:claude-code:${join(src, 'a', '.mcp.json')}#alpha`,
      `mcp:cursor:${join(src, 'team', 'b', '.cursor', 'mcp.json')}#beta`,
      `mcp:vscode:${join(src, 'team', 'c', '.vscode', 'mcp.json')}#gamma`,
    ]);
  });

  it('honours XDG_CONFIG_HOME for Claude Desktop and Zed on Linux', async () => {
    const root = tempRoot();
    const home = join(root, 'home');
    const xdg = join(root, 'xdg');
    write(join(xdg, 'Claude', 'claude_desktop_config.json'), JSON.stringify(server('desk')));
    write(join(xdg, 'zed', 'settings.json'), JSON.stringify({ context_servers: { zz: { command: { path: 'zed-mcp', args: [] } } } }));
    const result = await scanMcpConfigs(options(home, { xdgConfigHome: xdg }));
    expect(mcpIds(result)).toEqual([`mcp:claude-desktop:${join(xdg, 'Claude', 'claude_desktop_config.json')}#desk`, `mcp:zed:${join(xdg, 'zed', 'settings.json')}#zz`]);
  });

  it("reads Continue's .continue/mcpServers/*.yaml and *.json, in the home and in projects", async () => {
    const root = tempRoot();
    const home = join(root, 'home');
    const project = join(root, 'proj');
    write(join(home, '.continue', 'mcpServers', 'sqlite.yaml'), 'name: SQLite\nversion: 0.0.1\nschema: v1\nmcpServers:\n  - name: sqlite\n    command: npx\n    args: ["-y", "mcp-sqlite@1.0.0"]\n');
    write(join(home, '.continue', 'mcpServers', 'copied.json'), JSON.stringify(server('copied')));
    write(join(home, '.continue', 'mcpServers', 'notes.md'), '# not a config');
    write(join(project, '.continue', 'mcpServers', 'local.yml'), 'mcpServers:\n  - name: local\n    command: ./local-mcp\n');
    const result = await scanMcpConfigs(options(home, { paths: [project] }));
    expect(mcpIds(result)).toEqual([
      `mcp:continue:${join(home, '.continue', 'mcpServers', 'copied.json')}#copied`,
      `mcp:continue:${join(home, '.continue', 'mcpServers', 'sqlite.yaml')}#sqlite`,
      `mcp:continue:${join(project, '.continue', 'mcpServers', 'local.yml')}#local`,
    ]);
    expect(result.skipped).toEqual([]);
  });

  it('--verbose lists every location scanned, found or not (table and JSON)', async () => {
    const root = tempRoot();
    const home = join(root, 'home');
    const project = join(root, 'bot');
    write(join(home, '.cursor', 'mcp.json'), JSON.stringify(server('one')));
    write(join(project, 'package.json'), '{"name":"bot"}');
    const args = ['scan', '--home', home, '--path', project, '--no-probe', '--verbose', '--data-dir', join(root, 'data')];
    const json = await runCliInProcess([...args, '--format', 'json'], { cwd: root });
    const scanned = (JSON.parse(json.stdout) as ScanResult).scanned!;
    expect(scanned).toContain(`${join(home, '.cursor', 'mcp.json')} (Cursor: read)`);
    expect(scanned).toContain(`${join(home, '.claude.json')} (Claude Code: not found)`);
    expect(scanned).toContain(`${join(home, '.continue', 'mcpServers')}/ (Continue config folder)`);
    expect(scanned).toContain(`${join(project, '.mcp.json')} (Claude Code: not found)`);
    expect(scanned).toContain(`${project} (projects: 1 folder walked)`);
    const table = await runCliInProcess(args, { cwd: root });
    expect(table.stdout).toMatch(/SCANNED \(\d+\)/);
    expect(table.stdout).toContain(`${join(home, '.cursor', 'mcp.json')} (Cursor: read)`);
  }, 60_000);
});

describe('projects', () => {
  it('a FIFO named like a source file is not waited on', async () => {
    if (process.platform === 'win32') return;
    const root = tempRoot();
    write(join(root, 'p', 'pyproject.toml'), '[project]\nname = "p"\ndependencies = ["openai"]\n');
    mkfifo(join(root, 'p', 'main.py'));
    const result = await scanProjects(options(join(root, 'home'), { paths: [join(root, 'p')] }));
    expect(result.findings.map((f) => f.id)).toEqual([`project:${join(root, 'p')}`]);
  }, 30_000);
});
