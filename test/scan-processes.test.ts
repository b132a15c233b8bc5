import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { environNames, maskCommand } from '../src/scan/process-info.js';
import { scanProcesses } from '../src/scan/processes.js';
import type { ScanFinding, ScanOptions } from '../src/scan/types.js';
import {
  FAKE_ANTHROPIC_KEY,
  FAKE_CLI_KEY,
  FAKE_OPENAI_KEY,
  fakeProc,
  startFixture,
  stopFixtures,
  writeNodeAgent,
  writePackage,
  writeText,
} from './fixtures/scan/processes/index.js';

const PYTHON = '/usr/bin/python3';
const isLinux = process.platform === 'linux';
let tmp: string;

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'ag-scan-proc-'));
});
afterEach(stopFixtures);
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

const options = (pids: number[], extra: Partial<ScanOptions> = {}): ScanOptions => ({
  home: join(tmp, 'home'),
  paths: [],
  probe: false,
  platform: 'linux',
  procRoot: '/proc',
  probeTimeoutMs: 300,
  pids,
  ...extra,
});

const only = (findings: ScanFinding[], pid: number) => {
  const matching = findings.filter((f) => f.details.pid === pid);
  expect(matching).toHaveLength(1);
  return matching[0];
};

describe.runIf(isLinux)('scanProcesses on Linux (/proc)', () => {
  it('reports a Node process that loads a fake langchain as an unsecured LangChain agent holding OPENAI_API_KEY', async () => {
    const dir = join(tmp, 'node-agent');
    await writeNodeAgent(dir, { langchain: '0.3.0' }, ['langchain']);
    const child = await startFixture(process.execPath, ['agent.js', '--api-key', FAKE_CLI_KEY, `SECRET_TOKEN=${FAKE_CLI_KEY}`], {
      cwd: dir,
      env: { OPENAI_API_KEY: FAKE_OPENAI_KEY },
    });
    const result = await scanProcesses(options([child.pid!]));
    const finding = only(result.findings, child.pid!);
    expect(finding.kind).toBe('agent-process');
    expect(finding.frameworks).toContainEqual({ name: 'LangChain', version: '0.3.0' });
    expect(finding.status).toBe('unsecured');
    expect(finding.risk).toBe('high');
    expect(finding.details.credentialEnv).toEqual(['OPENAI_API_KEY']);
    expect(finding.details.cwd).toBe(dir);
    expect(finding.details.ppid).toBe(process.pid);
    expect(finding.id).toMatch(new RegExp(`^process:${child.pid}:\\d+$`));
    expect(finding.evidence).toContain(`${join(dir, 'node_modules', 'langchain', 'package.json')}: langchain 0.3.0 is installed`);
    expect(finding.details.command).toBe(`${process.execPath} agent.js --api-key *** SECRET_TOKEN=***`);
    const json = JSON.stringify(result);
    expect(json).not.toContain(FAKE_OPENAI_KEY);
    expect(json).not.toContain(FAKE_CLI_KEY);
    // The id is stable across scans of the same process.
    expect(only((await scanProcesses(options([child.pid!]))).findings, child.pid!).id).toBe(finding.id);
  });

  it.skipIf(!existsSync(PYTHON))('reports a Python process whose script imports openai, from the script text', async () => {
    const dir = join(tmp, 'py-agent');
    await writeText(
      join(dir, 'agent.py'),
      'import sys, time\ntry:\n    from openai import OpenAI\nexcept ImportError:\n    pass\nprint("ready", flush=True)\ntime.sleep(120)\n',
    );
    const child = await startFixture(PYTHON, ['agent.py'], { cwd: dir, env: { OPENAI_API_KEY: FAKE_OPENAI_KEY } });
    const result = await scanProcesses(options([child.pid!]));
    const finding = only(result.findings, child.pid!);
    expect(finding.kind).toBe('agent-process');
    expect(finding.frameworks.map((f) => f.name)).toEqual(['OpenAI SDK']);
    expect(finding.status).toBe('unsecured');
    expect(finding.risk).toBe('high');
    expect(finding.details.credentialEnv).toEqual(['OPENAI_API_KEY']);
    expect(finding.details.runtime).toBe('python');
    expect(finding.evidence).toContain(`${join(dir, 'agent.py')} imports openai`);
    expect(JSON.stringify(result)).not.toContain(FAKE_OPENAI_KEY);
  });

  it('reports a process with AGENTGUARD_TOKEN and AGENTGUARD_SIDECAR_URL as secured, low risk', async () => {
    const dir = join(tmp, 'secured-agent');
    await writeNodeAgent(dir, { langchain: '0.3.0' }, ['langchain']);
    const child = await startFixture(process.execPath, [join(dir, 'agent.js')], {
      cwd: dir,
      env: { OPENAI_API_KEY: FAKE_OPENAI_KEY, AGENTGUARD_SIDECAR_URL: 'http://127.0.0.1:8787', AGENTGUARD_TOKEN: 'agk_fixture_token_5150' },
    });
    const finding = only((await scanProcesses(options([child.pid!]))).findings, child.pid!);
    expect(finding.status).toBe('secured');
    expect(finding.risk).toBe('low');
    expect(finding.details.agentguardEnv).toEqual(['AGENTGUARD_SIDECAR_URL', 'AGENTGUARD_TOKEN']);
    expect(JSON.stringify(finding)).not.toContain('8787');
    expect(JSON.stringify(finding)).not.toContain('agk_fixture_token_5150');
  });

  it('reports a credential-holding process that is no agent as a credential-process, and ignores a plain one', async () => {
    const dir = join(tmp, 'plain');
    await writeText(join(dir, 'README'), 'empty');
    const script = 'setInterval(() => {}, 1000); console.log("ready")';
    const holder = await startFixture(process.execPath, ['-e', script], { cwd: dir, env: { ANTHROPIC_API_KEY: FAKE_ANTHROPIC_KEY } });
    const plain = await startFixture(process.execPath, ['-e', script], { cwd: dir, env: { HOME: dir } });
    const result = await scanProcesses(options([holder.pid!, plain.pid!]));
    expect(result.findings).toHaveLength(1);
    const finding = only(result.findings, holder.pid!);
    expect(finding.kind).toBe('credential-process');
    expect(finding.status).toBe('unsecured');
    expect(finding.risk).toBe('high');
    expect(finding.details.credentialEnv).toEqual(['ANTHROPIC_API_KEY']);
    expect(JSON.stringify(result)).not.toContain(FAKE_ANTHROPIC_KEY);
  });

  it('reports an MCP server package run from node_modules, without counting packages installed beside it', async () => {
    const dir = join(tmp, 'mcp-host');
    await writeText(join(dir, 'package.json'), JSON.stringify({ name: 'host', dependencies: {} }));
    await writePackage(dir, '@modelcontextprotocol/sdk', '1.2.3');
    await writePackage(dir, 'openai', '6.0.0');
    await writePackage(dir, '@modelcontextprotocol/server-demo', '0.6.2', { '@modelcontextprotocol/sdk': '^1.2.0' });
    const server = join(dir, 'node_modules', '@modelcontextprotocol', 'server-demo', 'index.js');
    await writeText(server, 'setInterval(() => {}, 1000); console.log("ready");\n');
    const child = await startFixture(process.execPath, [server], { cwd: dir });
    const finding = only((await scanProcesses(options([child.pid!]))).findings, child.pid!);
    expect(finding.kind).toBe('agent-process');
    expect(finding.details.mcpServer).toBe(true);
    expect(finding.details.mcpPackage).toBe('@modelcontextprotocol/server-demo');
    expect(finding.frameworks).toEqual([{ name: 'MCP SDK', version: '1.2.3' }]);
    expect(finding.risk).toBe('medium');
  });

  it('records a process that exited before it could be read as skipped, not as clean', async () => {
    const { pid } = spawnSync(process.execPath, ['-e', ''], { env: {} });
    const result = await scanProcesses(options([pid]));
    expect(result.findings).toEqual([]);
    expect(result.skipped).toContainEqual({ what: `1 process (pid ${pid})`, reason: 'the process exited during the scan' });
  });

  it('never reports the scanning process itself', async () => {
    const result = await scanProcesses(options([process.pid]));
    expect(result.findings).toEqual([]);
    expect(result.skipped).toEqual([]);
  });
});

describe('scanProcesses on a fixture /proc', () => {
  it('classifies agent CLIs, MCP servers by command line, unreadable environments and masks secrets', async () => {
    const root = join(tmp, 'proc');
    const project = join(tmp, 'fixture-project');
    await writeText(join(project, 'package.json'), '{ "name": "x", "dependencies": { "openai": "^6" }');
    await fakeProc(root, 4242, { argv: ['claude', '--resume'], env: { ANTHROPIC_API_KEY: FAKE_ANTHROPIC_KEY, HOME: '/home/u' }, cwd: project, startTicks: 123456, uid: 1000 });
    await fakeProc(root, 4243, { argv: ['npm exec @modelcontextprotocol/server-filesystem /srv'], comm: 'npm exec @model', env: {} });
    await fakeProc(root, 4244, { argv: ['/usr/bin/uv', 'tool', 'run', 'mcp-server-fetch', '--token', FAKE_CLI_KEY], env: {} });
    await fakeProc(root, 4245, { argv: ['/usr/local/bin/uvx', 'mcp-obsidian'], environUnreadable: true });
    await fakeProc(root, 4246, { argv: ['/usr/bin/node', join(project, 'bot.js')], exe: '/usr/bin/node', cwd: project, env: {} });
    await fakeProc(root, 4247, { argv: ['bash'], env: { PATH: '/bin' } });
    const guarded = join(tmp, 'guarded-project');
    await writeText(join(guarded, 'package.json'), JSON.stringify({ name: 'g', dependencies: { '@langchain/core': '^0.3.1' } }));
    await fakeProc(root, 4249, { argv: ['/usr/bin/node', '--import', 'agentguard/register', 'app.js'], exe: '/usr/bin/node', cwd: guarded, env: { OPENAI_API_KEY: FAKE_OPENAI_KEY } });
    await writeText(join(root, '4248', 'comm'), 'kworker\n'); // a kernel thread: stat and cmdline present but empty
    await writeText(join(root, '4248', 'cmdline'), '');
    await writeText(join(root, '4248', 'stat'), '4248 (kworker/0:1) I 2 0 0 0 -1 69238880 0 0 0 0 0 0 0 0 20 0 1 0 9 0 0\n');

    const result = await scanProcesses(options([4242, 4243, 4244, 4245, 4246, 4247, 4248, 4249], { procRoot: root }));
    const byPid = new Map(result.findings.map((f) => [f.details.pid, f]));
    expect([...byPid.keys()].sort()).toEqual([4242, 4243, 4244, 4245, 4249]);

    const claude = byPid.get(4242)!;
    expect(claude).toMatchObject({ id: 'process:4242:123456', kind: 'agent-process', name: 'Claude Code', status: 'unsecured', risk: 'high' });
    expect(claude.details).toMatchObject({ agentCli: 'Claude Code', credentialEnv: ['ANTHROPIC_API_KEY'], cwd: project, ppid: 1 });
    expect(byPid.get(4243)!.details).toMatchObject({ mcpServer: true, mcpPackage: '@modelcontextprotocol/server-filesystem' });
    expect(byPid.get(4244)!.details).toMatchObject({ mcpServer: true, mcpPackage: 'mcp-server-fetch', command: '/usr/bin/uv tool run mcp-server-fetch --token ***' });
    expect(byPid.get(4245)!.details).toMatchObject({ mcpServer: true, mcpPackage: 'mcp-obsidian' });
    expect(byPid.get(4245)!.notes.join(' ')).toContain('environment names could not be read');
    // Preloading agentguard secures a process; the declared range stands in for a version that is not installed.
    expect(byPid.get(4249)!).toMatchObject({ status: 'secured', risk: 'low', frameworks: [{ name: 'LangChain', version: '^0.3.1' }] });
    expect(byPid.get(4249)!.evidence).toContain('node preloads agentguard/register (agentguard)');

    expect(result.skipped).toContainEqual({ what: 'environment names of 1 process (pid 4245)', reason: 'unreadable (EISDIR)' });
    // The malformed package.json of pid 4246's project is said, not silently ignored.
    expect(result.skipped).toContainEqual({ what: join(project, 'package.json'), reason: 'malformed JSON' });
    expect(JSON.stringify(result)).not.toContain(FAKE_CLI_KEY);
    expect(JSON.stringify(result)).not.toContain(FAKE_ANTHROPIC_KEY);
  });

  it.runIf(isLinux)('degrades on platforms without /proc: ps-list command lines only, and says what it could not read', async () => {
    const dir = join(tmp, 'ps-agent');
    const script = await writeNodeAgent(dir, { langchain: '0.3.0' }, ['langchain']);
    const child = await startFixture(process.execPath, [script], { cwd: dir, env: { OPENAI_API_KEY: FAKE_OPENAI_KEY } });
    const result = await scanProcesses(options([child.pid!], { platform: 'darwin' }));
    const finding = only(result.findings, child.pid!);
    expect(finding.frameworks).toContainEqual({ name: 'LangChain', version: '0.3.0' });
    expect(finding.details.credentialEnv).toEqual([]);
    expect(finding.risk).toBe('medium');
    expect(finding.id).toMatch(new RegExp(`^process:${child.pid}:\\d+$`));
    expect(result.skipped.map((s) => s.what)).toContain('environment variable names and working folders of processes');
  });
});

describe('command line and environment helpers', () => {
  it('masks values after secret flags, in KEY=value arguments, URL credentials and key-shaped values', () => {
    const masked = maskCommand([
      'tool',
      '--api-key',
      'abc',
      '--password=hunter2',
      'DB_URL=postgres://u:p@h/db',
      'https://user:pw@example.com/x',
      '--model',
      'gpt-4o',
      `--header=Authorization: Bearer ${FAKE_CLI_KEY}`,
      `value ${FAKE_OPENAI_KEY}`,
    ]);
    expect(masked).toBe('tool --api-key *** --password=*** DB_URL=*** https://***@example.com/x --model gpt-4o "--header=Authorization: ***" "value ***"');
  });

  it('keeps environment variable names and drops their values', () => {
    const raw = Buffer.from(`OPENAI_API_KEY=${FAKE_OPENAI_KEY}\0EMPTY=\0WEIRD=a=b\0NOVALUE\0`);
    expect(environNames(raw)).toEqual(['OPENAI_API_KEY', 'EMPTY', 'WEIRD', 'NOVALUE']);
  });
});
