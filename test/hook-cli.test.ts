import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditRecorder } from '../src/core/audit/recorder.js';
import { Policy } from '../src/core/policy/policy.js';
import { buildSidecarApp, type Authenticate } from '../src/sidecar/app.js';
import { BIN, ROOT } from './helpers/cli.js';
import { runCliInProcess } from './helpers/cli-in-process.js';
import { hookFixture } from './helpers/hook-fixtures.js';
import { makeTempDir } from './helpers/temp-dirs.js';

/**
 * The hook as agents run it: `node bin/agentguard-hook.js <agent>` (the lean entry, dist/) and `agentguard hook
 * <agent>` (bin/run.js), each a child process fed a real payload of its agent on stdin. The policy is light (no
 * guardrail models), so each process costs only the hook's own start.
 */
const LEAN = join(ROOT, 'bin/agentguard-hook.js');
const TIMEOUT = 180_000;

const POLICY = `version: 1
name: hook-e2e
default: deny
rules:
  - { id: shell, effect: allow, when: { kind: shell } }
  - { id: no-rm, effect: deny, when: { kind: shell, input.command: { startsWith: 'rm ' } }, message: rm is not allowed here }
  - id: push-needs-approval
    effect: require_approval
    when: { kind: shell, input.command: { startsWith: 'git push' } }
    message: pushes need a person
  - id: echo-checked
    effect: transform
    when: { kind: shell, input.command: { startsWith: 'echo ' } }
    transform: [ { set: input.command, value: 'echo checked' } ]
  - { id: reads, effect: allow, when: { name: { in: [file.read, file.list] } } }
  - { id: writes-in-project, effect: allow, when: { name: { in: [file.write, file.edit] }, context.file.outsideCwd: false } }
  - { id: docs-fetch, effect: allow, when: { name: web.fetch, input.url: { startsWith: 'https://docs.example.com/' } } }
  - { id: mcp-lists, effect: allow, when: { kind: mcp, name: { glob: 'mcp.*.list_*' } } }
  - { id: results, effect: allow, when: { kind: { in: [tool_output, mcp_output] } } }
  - { id: withhold-evil, effect: deny, when: { kind: mcp_output, name: { glob: 'mcp.evil.*' } }, message: results of the evil server are withheld }
  - { id: tainted-shell, effect: deny, when: { kind: shell, context.session.tainted: true }, message: this session read untrusted content }
`;

let project: string;

function writeProject(dir: string): void {
  mkdirSync(join(dir, 'agentguard'), { recursive: true });
  writeFileSync(join(dir, 'agentguard.config.json'), JSON.stringify({ policy: 'agentguard/policy.yaml', policyDir: 'agentguard', dataDir: '.agentguard', sessions: { untrusted: ['web.fetch'] } }));
  writeFileSync(join(dir, 'agentguard/policy.yaml'), POLICY);
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  json: Record<string, unknown> | undefined;
}

function runHook(agent: string, payload: unknown, options: { env?: Record<string, string | undefined>; cli?: boolean; cwd?: string } = {}): Promise<Run> {
  const args = options.cli ? [BIN, 'hook', agent] : [LEAN, agent];
  const env: Record<string, string | undefined> = { ...process.env, NO_COLOR: '1', AGENTGUARD_SIDECAR_URL: undefined, AGENTGUARD_TOKEN: undefined, AGENTGUARD_PROJECT: undefined, AGENTGUARD_HOOK_BYPASS: undefined, ...options.env };
  for (const key of Object.keys(env)) if (env[key] === undefined) delete env[key];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: options.cwd ?? project, env: env as NodeJS.ProcessEnv });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      let json: Record<string, unknown> | undefined;
      try {
        json = stdout.trim() === '' ? undefined : (JSON.parse(stdout) as Record<string, unknown>);
      } catch {
        json = undefined;
      }
      resolve({ code: code ?? -1, stdout, stderr, json });
    });
    child.stdin.end(typeof payload === 'string' ? payload : JSON.stringify(payload));
  });
}

let sessions = 0;
const fixture = (agent: string, file: string, patch: (p: Record<string, unknown>) => void = () => {}, session = `e2e-${++sessions}`) => {
  const payload = hookFixture(agent, file, { cwd: project, session });
  patch(payload);
  return payload;
};
const claudeCommand = (command: string) => fixture('claude-code', 'bash.json', (p) => ((p.tool_input as Record<string, unknown>).command = command));

beforeAll(async () => {
  project = makeTempDir('ag-hook-e2e-');
  writeProject(project);
  // One call first creates the data folder and its database; the tests then run several hooks at once on it, as an
  // agent making parallel tool calls does (creating it from several processes at once can outlast SQLite's 5 s busy
  // wait on a loaded machine, and the hook then fails closed).
  const first = await runHook('claude-code', claudeCommand('ls'));
  expect(first, first.stderr).toMatchObject({ code: 0, stdout: '' });
}, TIMEOUT);

describe('Claude Code through the lean entry', () => {
  it('allow defers to Claude Code (no output), deny, ask and rewrite use hookSpecificOutput', async () => {
    const [allow, deny, ask, rewrite] = await Promise.all([
      runHook('claude-code', claudeCommand('ls -la')),
      runHook('claude-code', claudeCommand('rm -rf build')),
      runHook('claude-code', claudeCommand('git push origin main')),
      runHook('claude-code', claudeCommand('echo hi')),
    ]);
    expect(allow).toMatchObject({ code: 0, stdout: '' });
    expect(deny.code).toBe(0);
    expect(deny.json).toEqual({ hookSpecificOutput: { hookEventName: 'PreToolUse', permissionDecision: 'deny', permissionDecisionReason: 'agentguard denied shell.exec: rm is not allowed here' } });
    expect(ask.json, ask.stdout + ask.stderr).toMatchObject({ hookSpecificOutput: { permissionDecision: 'ask' } });
    expect(JSON.stringify(ask.json)).toContain('pushes need a person');
    expect(rewrite.json).toMatchObject({ hookSpecificOutput: { permissionDecision: 'allow', updatedInput: { command: 'echo checked', description: 'List files' } } });
  }, TIMEOUT);

  it('maps file, fetch and MCP calls: in-project write, allowed fetch and MCP list pass; a fetch off the list is denied', async () => {
    const [read, write, fetch, mcp, offList] = await Promise.all([
      runHook('claude-code', fixture('claude-code', 'read.json')),
      runHook('claude-code', fixture('claude-code', 'write.json')),
      runHook('claude-code', fixture('claude-code', 'fetch.json')),
      runHook('claude-code', fixture('claude-code', 'mcp.json')),
      runHook('claude-code', fixture('claude-code', 'fetch.json', (p) => ((p.tool_input as Record<string, unknown>).url = 'https://paste.example/x'))),
    ]);
    for (const run of [read, write, fetch, mcp]) expect(run, run.stderr).toMatchObject({ code: 0, stdout: '' });
    expect(offList.json).toMatchObject({ hookSpecificOutput: { permissionDecision: 'deny' } });
  }, TIMEOUT);

  it('every decision is in the audit trail with the agent, the session and the working folder', async () => {
    const session = 'audit-session-7';
    await runHook('claude-code', fixture('claude-code', 'bash.json', undefined, session));
    const out = await runCliInProcess(['audit', 'query', '--json'], { cwd: project });
    expect(out.code, out.stderr).toBe(0);
    const records = JSON.stringify(JSON.parse(out.stdout));
    expect(records).toContain(session);
    const mine = (JSON.parse(out.stdout) as { records?: unknown[] }).records ?? (JSON.parse(out.stdout) as unknown[]);
    const record = (mine as unknown[]).map((r) => JSON.stringify(r)).find((r) => r.includes(session))!;
    expect(record).toContain('"agent":"claude-code"');
    expect(record).toContain(JSON.stringify(project).slice(1, -1));
  }, TIMEOUT);
});

describe('every agent, in its own format', () => {
  it('Codex: deny and rewrite in hookSpecificOutput, approval denied naming the approval (Codex has no ask)', async () => {
    const command = (c: string) => fixture('codex', 'bash.json', (p) => ((p.tool_input as Record<string, unknown>).command = c));
    const [allow, deny, approval, rewrite, patch] = await Promise.all([
      runHook('codex', command('ls')),
      runHook('codex', command('rm -rf /tmp/x')),
      runHook('codex', command('git push origin main')),
      runHook('codex', command('echo hi')),
      runHook('codex', fixture('codex', 'apply-patch.json')),
    ]);
    expect(allow).toMatchObject({ code: 0, stdout: '' });
    expect(deny.json).toMatchObject({ hookSpecificOutput: { permissionDecision: 'deny' } });
    expect(approval.json).toMatchObject({ hookSpecificOutput: { permissionDecision: 'deny' } });
    expect(JSON.stringify(approval.json)).toMatch(/agentguard approvals approve apr_/);
    expect(rewrite.json).toMatchObject({ hookSpecificOutput: { permissionDecision: 'allow', updatedInput: { command: 'echo checked' } } });
    expect(patch, patch.stderr).toMatchObject({ code: 0, stdout: '' });
  }, TIMEOUT);

  it('Gemini CLI: {} to allow, decision deny, tool_input rewrite, and a withheld result', async () => {
    const command = (c: string) => fixture('gemini-cli', 'shell.json', (p) => ((p.tool_input as Record<string, unknown>).command = c));
    const [allow, deny, approval, rewrite, fetch] = await Promise.all([
      runHook('gemini-cli', command('ls')),
      runHook('gemini-cli', command('rm -rf x')),
      runHook('gemini-cli', command('git push origin main')),
      runHook('gemini-cli', command('echo hi')),
      runHook('gemini-cli', fixture('gemini-cli', 'fetch.json')),
    ]);
    expect(allow).toMatchObject({ code: 0, json: {} });
    expect(deny.json).toEqual({ decision: 'deny', reason: 'agentguard denied shell.exec: rm is not allowed here' });
    expect(approval.json).toMatchObject({ decision: 'deny' });
    expect(rewrite.json).toMatchObject({ hookSpecificOutput: { tool_input: { command: 'echo checked', description: 'List files' } } });
    expect(fetch.json).toEqual({});
  }, TIMEOUT);

  it('Copilot CLI: nothing to allow, permissionDecision deny/ask, modifiedArgs', async () => {
    const command = (c: string) => fixture('copilot-cli', 'bash.json', (p) => (p.toolArgs = JSON.stringify({ command: c })));
    const [allow, deny, ask, rewrite, create] = await Promise.all([
      runHook('copilot-cli', command('ls')),
      runHook('copilot-cli', command('rm -rf x')),
      runHook('copilot-cli', command('git push origin main')),
      runHook('copilot-cli', command('echo hi')),
      runHook('copilot-cli', fixture('copilot-cli', 'create.json')),
    ]);
    expect(allow, allow.stderr).toMatchObject({ code: 0, stdout: '' });
    expect(deny.json).toEqual({ permissionDecision: 'deny', permissionDecisionReason: 'agentguard denied shell.exec: rm is not allowed here' });
    expect(ask.json, ask.stdout + ask.stderr).toMatchObject({ permissionDecision: 'ask' });
    expect(rewrite.json).toMatchObject({ modifiedArgs: { command: 'echo checked' } });
    expect(create).toMatchObject({ code: 0, stdout: '' });
  }, TIMEOUT);

  it('Cursor: permission allow/deny/ask; a transform is a denial that says Cursor cannot run a changed call', async () => {
    const command = (c: string) => fixture('cursor', 'shell.json', (p) => (p.command = c));
    const [allow, deny, ask, rewrite, read] = await Promise.all([
      runHook('cursor', command('ls')),
      runHook('cursor', command('rm -rf x')),
      runHook('cursor', command('git push origin main')),
      runHook('cursor', command('echo hi')),
      runHook('cursor', fixture('cursor', 'read.json')),
    ]);
    expect(allow.json).toEqual({ permission: 'allow' });
    expect(deny.json).toMatchObject({ permission: 'deny', agent_message: 'agentguard denied shell.exec: rm is not allowed here' });
    expect(ask.json).toMatchObject({ permission: 'ask' });
    expect(rewrite.json).toMatchObject({ permission: 'deny' });
    expect(String(rewrite.json?.agent_message)).toMatch(/cursor cannot run a changed call/);
    expect(read.json).toEqual({ permission: 'allow' });
  }, TIMEOUT);

  it('Windsurf: exit 0 to allow, exit 2 with the reason on stderr to block', async () => {
    const command = (c: string) => fixture('windsurf', 'run.json', (p) => ((p.tool_info as Record<string, unknown>).command_line = c));
    const [allow, deny, rewrite, mcp] = await Promise.all([
      runHook('windsurf', command('ls')),
      runHook('windsurf', command('rm -rf x')),
      runHook('windsurf', command('echo hi')),
      runHook('windsurf', fixture('windsurf', 'mcp.json')),
    ]);
    expect(allow).toMatchObject({ code: 0, stdout: '' });
    expect(deny).toMatchObject({ code: 2, stdout: '' });
    expect(deny.stderr).toContain('rm is not allowed here');
    expect(rewrite.code).toBe(2);
    expect(mcp).toMatchObject({ code: 0 });
  }, TIMEOUT);
});

describe('approvals for agents that cannot ask', () => {
  it('Gemini CLI waits up to AGENTGUARD_HOOK_APPROVAL_WAIT_MS; approved meanwhile, the call runs', async () => {
    const payload = fixture('gemini-cli', 'shell.json', (p) => ((p.tool_input as Record<string, unknown>).command = 'git push origin release-7'));
    const waiting = runHook('gemini-cli', payload, { env: { AGENTGUARD_HOOK_APPROVAL_WAIT_MS: '120000' } });
    let id: string | undefined;
    for (let i = 0; i < 600 && id === undefined; i++) {
      const out = await runCliInProcess(['approvals', 'list', '--status', 'pending', '--json'], { cwd: project });
      const list = out.code === 0 ? (JSON.parse(out.stdout) as Array<{ id: string; action: { input?: { command?: string } } }>) : [];
      id = list.find((a) => a.action.input?.command === 'git push origin release-7')?.id;
      if (id === undefined) await new Promise((r) => setTimeout(r, 200));
    }
    expect(id, 'the hook opened an approval').toBeDefined();
    const approved = await runCliInProcess(['approvals', 'approve', id!, '--json'], { cwd: project });
    expect(approved.code, approved.stderr).toBe(0);
    const run = await waiting;
    expect(run, run.stderr).toMatchObject({ code: 0, json: {} });
  }, TIMEOUT);
});

describe('results and session taint', () => {
  it('a fetched page (untrusted in the project config) taints the session: a later command in it is denied, in another session allowed', async () => {
    const session = 'taint-me';
    const post = await runHook('claude-code', fixture('claude-code', 'post-fetch.json', undefined, session));
    expect(post, post.stderr).toMatchObject({ code: 0, stdout: '' });
    const [tainted, clean] = await Promise.all([
      runHook('claude-code', fixture('claude-code', 'bash.json', undefined, session)),
      runHook('claude-code', fixture('claude-code', 'bash.json', undefined, 'clean-session')),
    ]);
    expect(tainted.json).toMatchObject({ hookSpecificOutput: { permissionDecision: 'deny' } });
    expect(JSON.stringify(tainted.json)).toContain('this session read untrusted content');
    expect(clean).toMatchObject({ code: 0, stdout: '' });
  }, TIMEOUT);

  it('a withheld result: Claude Code gets decision block, Gemini CLI decision deny', async () => {
    const [claude, gemini] = await Promise.all([
      runHook('claude-code', fixture('claude-code', 'post-fetch.json', (p) => {
        p.tool_name = 'mcp__evil__read';
        p.tool_input = {};
        p.tool_response = [{ type: 'text', text: 'anything' }];
      })),
      runHook('gemini-cli', fixture('gemini-cli', 'post-fetch.json', (p) => {
        p.tool_name = 'mcp__evil__read';
        p.tool_input = {};
      })),
    ]);
    expect(claude.json).toMatchObject({ decision: 'block' });
    expect(String(claude.json?.reason)).toContain('results of the evil server are withheld');
    expect(gemini.json).toMatchObject({ decision: 'deny' });
  }, TIMEOUT);
});

describe('failing closed', () => {
  it('malformed payloads are denied, never a crash, through both entries', async () => {
    const [lean, cli, copilot] = await Promise.all([
      runHook('claude-code', '{"hook_event_name": "PreToolUse", "tool_name": "Bash"'),
      runHook('claude-code', 'not json', { cli: true }),
      runHook('copilot-cli', '[]'),
    ]);
    for (const run of [lean, cli]) {
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(/hook payload is not one agentguard understands/);
      expect(run.stderr).not.toMatch(/at .*\.js:\d+/);
    }
    expect(copilot).toMatchObject({ code: 0, json: { permissionDecision: 'deny' } });
  }, TIMEOUT);

  it('agentguard hook (the CLI) answers like the lean entry', async () => {
    const [deny, allow] = await Promise.all([runHook('claude-code', claudeCommand('rm -rf build'), { cli: true }), runHook('claude-code', claudeCommand('ls'), { cli: true })]);
    expect(deny.json).toEqual({ hookSpecificOutput: { hookEventName: 'PreToolUse', permissionDecision: 'deny', permissionDecisionReason: 'agentguard denied shell.exec: rm is not allowed here' } });
    expect(allow).toMatchObject({ code: 0, stdout: '' });
  }, TIMEOUT);

  it('no project config: denied with how to set one up and how to bypass', async () => {
    const elsewhere = makeTempDir('ag-hook-none-');
    const run = await runHook('claude-code', hookFixture('claude-code', 'bash.json', { cwd: elsewhere, session: 's' }), { cwd: elsewhere, env: { HOME: elsewhere } });
    expect(run.json).toMatchObject({ hookSpecificOutput: { permissionDecision: 'deny' } });
    const reason = String((run.json?.hookSpecificOutput as Record<string, unknown>).permissionDecisionReason);
    expect(reason).toContain('agentguard init --template coding-agent');
    expect(reason).toContain('AGENTGUARD_HOOK_BYPASS=1');
  }, TIMEOUT);

  it('a broken policy: denied, naming the problem and agentguard doctor', async () => {
    const broken = makeTempDir('ag-hook-broken-');
    writeProject(broken);
    writeFileSync(join(broken, 'agentguard/policy.yaml'), 'version: 1\nrules: [ { id: x, effect: maybe } ]\n');
    const run = await runHook('gemini-cli', hookFixture('gemini-cli', 'shell.json', { cwd: broken, session: 's' }), { cwd: broken });
    expect(run.json).toMatchObject({ decision: 'deny' });
    expect(String(run.json?.reason)).toMatch(/could not load its policy/);
    expect(String(run.json?.reason)).toContain('agentguard doctor');
  }, TIMEOUT);

  it('AGENTGUARD_HOOK_BYPASS=1 lets the call through with a warning, and records it', async () => {
    const session = 'bypass-session';
    const run = await runHook('claude-code', fixture('claude-code', 'bash.json', (p) => ((p.tool_input as Record<string, unknown>).command = 'rm -rf build'), session), { env: { AGENTGUARD_HOOK_BYPASS: '1' } });
    expect(run).toMatchObject({ code: 0, stdout: '' });
    expect(run.stderr).toMatch(/AGENTGUARD_HOOK_BYPASS=1 is set, so Bash went through without a decision; recorded as dec_\w+ \(the policy's answer: deny\)/);
    const out = await runCliInProcess(['audit', 'query', '--json'], { cwd: project });
    expect(out.stdout).toContain(session);
    expect(out.stdout).toMatch(/"bypass":\s*true/);
  }, TIMEOUT);
});

describe('sidecar mode', () => {
  let app: FastifyInstance;
  let recorder: AuditRecorder;
  let url: string;

  beforeAll(async () => {
    const dataDir = join(makeTempDir('ag-hook-sidecar-'), 'data');
    const policyFile = join(project, 'agentguard/policy.yaml');
    const authenticate: Authenticate = async (header) => (header === 'Bearer hook-token' ? { ok: true, token: { id: 'tok_h', scope: { kind: 'agent', agentId: 'coder' } } } : { ok: false, reason: 'unknown' });
    recorder = await AuditRecorder.open({ dataDir });
    app = await buildSidecarApp({ policy: await Policy.fromFile(policyFile), policyPath: policyFile, recorder, dataDir, authenticate, sessions: { untrusted: ['web.fetch'] } });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const address = app.server.address();
    url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  }, TIMEOUT);

  afterAll(async () => {
    await app?.close();
    await recorder?.close();
  });

  it('decides through the sidecar: allow, deny, and taint across calls', async () => {
    const env = { AGENTGUARD_SIDECAR_URL: url, AGENTGUARD_TOKEN: 'hook-token' };
    const elsewhere = makeTempDir('ag-hook-noproject-');
    const payload = (file: string, session: string, command?: string) => {
      const p = hookFixture('claude-code', file, { cwd: elsewhere, session });
      if (command) (p.tool_input as Record<string, unknown>).command = command;
      return p;
    };
    const [allow, deny] = await Promise.all([
      runHook('claude-code', payload('bash.json', 'sc-1', 'ls'), { env, cwd: elsewhere }),
      runHook('claude-code', payload('bash.json', 'sc-1', 'rm -rf x'), { env, cwd: elsewhere }),
    ]);
    expect(allow, allow.stderr).toMatchObject({ code: 0, stdout: '' });
    expect(deny.json).toMatchObject({ hookSpecificOutput: { permissionDecision: 'deny' } });
    await runHook('claude-code', payload('post-fetch.json', 'sc-2'), { env, cwd: elsewhere });
    const tainted = await runHook('claude-code', payload('bash.json', 'sc-2', 'ls'), { env, cwd: elsewhere });
    expect(JSON.stringify(tainted.json)).toContain('this session read untrusted content');
  }, TIMEOUT);

  it('a sidecar that does not answer: denied, naming the sidecar, how to fix and how to bypass', async () => {
    const closed = await new Promise<number>((resolve) => {
      const server = createServer();
      server.listen(0, '127.0.0.1', () => {
        const port = (server.address() as { port: number }).port;
        server.close(() => resolve(port));
      });
    });
    const run = await runHook('claude-code', claudeCommand('ls'), { env: { AGENTGUARD_SIDECAR_URL: `http://127.0.0.1:${closed}`, AGENTGUARD_TOKEN: 'hook-token' } });
    expect(run.json).toMatchObject({ hookSpecificOutput: { permissionDecision: 'deny' } });
    const reason = String((run.json?.hookSpecificOutput as Record<string, unknown>).permissionDecisionReason);
    expect(reason).toContain(`127.0.0.1:${closed}`);
    expect(reason).toContain('AGENTGUARD_HOOK_BYPASS=1');
  }, TIMEOUT);

  it('a sidecar URL without a token: denied, saying to set AGENTGUARD_TOKEN', async () => {
    const run = await runHook('windsurf', fixture('windsurf', 'run.json'), { env: { AGENTGUARD_SIDECAR_URL: url } });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('AGENTGUARD_TOKEN');
  }, TIMEOUT);
});
