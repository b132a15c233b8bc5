import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateCycloneDx } from '../src/scan/cyclonedx.js';
import type { ScanFinding } from '../src/scan/types.js';
import { diffScans } from '../src/scan/watch-events.js';
import { runCliInProcess } from './helpers/cli-in-process.js';
import { makeTempDir } from './helpers/temp-dirs.js';

const SECRET = 'sk-test-FAKE-cli-scan-0001';
let root: string;
let home: string;
let project: string;
let dataDir: string;
let ollama: ChildProcess;
let ollamaPort: number;

beforeAll(async () => {
  root = makeTempDir('ag-cli-scan-');
  home = join(root, 'home');
  project = join(root, 'bot');
  dataDir = join(root, 'data');
  mkdirSync(join(home, '.cursor'), { recursive: true });
  writeFileSync(join(home, '.cursor', 'mcp.json'), JSON.stringify({ mcpServers: { github: { command: 'npx', args: ['-y', '@modelcontextprotocol/server-github'], env: { GITHUB_TOKEN: SECRET } } } }));
  mkdirSync(join(home, '.config', 'Code', 'User'), { recursive: true });
  writeFileSync(join(home, '.config', 'Code', 'User', 'mcp.json'), '{ "servers": { "x": ');
  mkdirSync(project, { recursive: true });
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'bot', dependencies: { langchain: '^0.3.0' } }));
  // An Ollama-compatible server on a loopback port, in its own process (the CLI runs while this one waits on it):
  // it must be confirmed by its API, not by its port.
  const server = `require('node:http').createServer((req, res) => {
    if (req.url === '/api/tags') res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ models: [{ name: 'llama3:8b' }] }));
    else res.writeHead(404).end();
  }).listen(0, '127.0.0.1', function () { console.log(this.address().port); });`;
  ollama = spawn(process.execPath, ['-e', server], { stdio: ['ignore', 'pipe', 'inherit'] });
  ollamaPort = await new Promise<number>((resolve) => ollama.stdout!.once('data', (d) => resolve(Number(String(d).trim()))));
});

afterAll(() => {
  ollama.kill();
  rmSync(root, { recursive: true, force: true });
});

const scan = (...args: string[]) => runCliInProcess(['scan', '--home', home, '--path', project, '--data-dir', dataDir, ...args], { cwd: root });

describe('agentguard scan', () => {
  it('reports the unsecured project, the MCP server with its risks, the model server by its API, and what it could not read; exit 1', async () => {
    const result = await scan('--json');
    expect(result.code, result.stderr).toBe(1);
    const report = JSON.parse(result.stdout) as { findings: ScanFinding[]; skipped: Array<{ what: string; reason: string }>; summary: { unsecured: number } };
    const bot = report.findings.find((f) => f.id === `project:${project}`);
    expect(bot).toMatchObject({ kind: 'project', status: 'unsecured', frameworks: [expect.objectContaining({ name: 'LangChain' })] });
    const github = report.findings.find((f) => f.kind === 'mcp-server' && f.name.includes('github'));
    expect(github?.risk).toBe('high');
    expect(github?.notes.join(' ')).toMatch(/GITHUB_TOKEN/);
    const server = report.findings.find((f) => f.id === `server:127.0.0.1:${ollamaPort}`);
    expect(server).toMatchObject({ kind: 'model-server', status: 'unknown' });
    expect(server!.evidence.join(' ')).toContain(`GET http://127.0.0.1:${ollamaPort}/api/tags → 200`);
    expect(report.skipped.some((s) => /Code\/User\/mcp\.json/.test(s.what) && /malformed/.test(s.reason))).toBe(true);
    expect(result.stdout).not.toContain(SECRET);
    expect(result.stderr).not.toContain(SECRET);
  });

  it('the table groups by risk and always ends with what was not inspected; --no-probe says probes were off', async () => {
    const result = await scan('--no-probe');
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/HIGH RISK \(\d+\)/);
    expect(result.stdout).toMatch(/NOT INSPECTED \(\d+\)/);
    expect(result.stdout).toMatch(/probe/i);
    expect(result.stdout).not.toContain(`server:127.0.0.1:${ollamaPort}`);
    expect(result.stdout).not.toContain(SECRET);
  });

  it('--format cyclonedx writes a CycloneDX 1.6 AI bill of materials that validates', async () => {
    const result = await scan('--format', 'cyclonedx');
    expect(result.code).toBe(1);
    const bom = JSON.parse(result.stdout) as { specVersion: string; components: Array<{ type: string; name: string; purl?: string }> };
    expect(bom.specVersion).toBe('1.6');
    expect(bom.components.some((c) => c.purl?.startsWith('pkg:npm/langchain'))).toBe(true);
    expect(bom.components.some((c) => c.type === 'machine-learning-model' && c.name === 'llama3:8b')).toBe(true);
    expect(await validateCycloneDx(result.stdout)).toBeNull();
    expect(result.stdout).not.toContain(SECRET);
  });

  it('records what it found in the agent registry', async () => {
    const list = await runCliInProcess(['agents', 'list', '--data-dir', dataDir, '--json'], { cwd: root });
    expect(list.code, list.stderr).toBe(0);
    const entries = JSON.parse(list.stdout) as { agents?: Array<{ id: string }> } | Array<{ id: string }>;
    const ids = (Array.isArray(entries) ? entries : (entries.agents ?? [])).map((e) => e.id);
    expect(ids).toContain(`project:${project}`);
  });

  it('bad flags exit 2', async () => {
    expect((await scan('--format', 'xml')).code).toBe(2);
    expect((await scan('--watch', '--format', 'cyclonedx')).code).toBe(2);
  });

  it('--watch runs the given number of scans and says what it watches', async () => {
    const result = await scan('--watch', '--interval', '1', '--count', '2', '--no-probe');
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/Watching: \d+ found/);
  });
});

describe('scan --watch events', () => {
  const finding = (id: string, kind: ScanFinding['kind'], details: Record<string, unknown> = {}): ScanFinding => ({
    id, kind, name: id, frameworks: [], location: id, status: 'unsecured', risk: 'medium', evidence: [], notes: [], details,
  });

  it('agents starting and stopping, servers up and down, MCP servers added, changed (by content hash) and removed', async () => {
    const before = [finding('process:1', 'agent-process'), finding('server:a', 'model-server'), finding('mcp:x', 'mcp-server', { contentHash: 'h1' }), finding('mcp:y', 'mcp-server', { contentHash: 'h2' }), finding('project:p', 'project')];
    const after = [finding('process:2', 'agent-process'), finding('mcp:x', 'mcp-server', { contentHash: 'h9' }), finding('mcp:z', 'mcp-server', { contentHash: 'h3' }), finding('server:b', 'model-server')];
    const events = diffScans(before, after, 't').map((e) => `${e.type} ${e.id}`).sort();
    expect(events).toEqual(['agent-started process:2', 'agent-stopped process:1', 'mcp-added mcp:z', 'mcp-changed mcp:x', 'mcp-removed mcp:y', 'server-down server:a', 'server-up server:b'].sort());
    expect(diffScans(after, after, 't')).toEqual([]);
  });
});
