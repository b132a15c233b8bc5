/**
 * The command line `hooks install` writes, run as each agent runs it (through a shell, the payload on stdin, in the
 * project folder), decides the call by the project's policy. Runs bin/agentguard-hook.js, which loads dist/: build
 * first (npx tsc -p tsconfig.build.json).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { AGENT_HOOK_SPECS, type HookEnvironment } from '../src/hooks/install/agents.js';
import { installHooks } from '../src/hooks/install/install.js';
import { runCliInProcess } from './helpers/cli-in-process.js';
import { makeTempDir } from './helpers/temp-dirs.js';

let env: HookEnvironment;

beforeAll(async () => {
  const root = makeTempDir('ag-hooks-e2e-');
  env = { home: join(root, 'home'), project: join(root, 'project') };
  mkdirSync(env.home, { recursive: true });
  const init = await runCliInProcess(['init', '--yes', '--template', 'coding-agent', '--dir', env.project, '--no-hooks']);
  expect(init.code).toBe(0);
  await installHooks(env, { agents: ['claude-code', 'cursor'], scope: 'project', dryRun: false });
}, 120_000);

/** The command line written under `event` in the agent's project file. */
function installedCommand(agent: 'claude-code' | 'cursor', event: string): string {
  const doc = JSON.parse(readFileSync(AGENT_HOOK_SPECS[agent].path('project', env), 'utf8')) as { hooks: Record<string, Array<Record<string, unknown>>> };
  const entry = doc.hooks[event][0];
  return (agent === 'claude-code' ? (entry.hooks as Array<{ command: string }>)[0].command : entry.command) as string;
}

function runAsTheAgent(command: string, payload: unknown) {
  const result = spawnSync('sh', ['-c', command], {
    cwd: env.project,
    input: JSON.stringify(payload),
    encoding: 'utf8',
    env: { ...process.env, HOME: env.home, AGENTGUARD_HOOK_BYPASS: '', AGENTGUARD_SIDECAR_URL: '', AGENTGUARD_TOKEN: '' },
    timeout: 60_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('the installed hook command line', () => {
  it('Claude Code: PreToolUse blocks rm -rf / and lets ls through', () => {
    const command = installedCommand('claude-code', 'PreToolUse');
    const base = { session_id: 's-e2e', transcript_path: join(env.project, 't.jsonl'), cwd: env.project, hook_event_name: 'PreToolUse', tool_name: 'Bash' };
    const denied = runAsTheAgent(command, { ...base, tool_input: { command: 'rm -rf /' } });
    const deniedJson = denied.stdout.trim() ? (JSON.parse(denied.stdout) as { hookSpecificOutput?: { permissionDecision?: string } }) : {};
    expect(denied.status === 2 || deniedJson.hookSpecificOutput?.permissionDecision === 'deny', `${denied.status} ${denied.stdout} ${denied.stderr}`).toBe(true);
    const allowed = runAsTheAgent(command, { ...base, tool_input: { command: 'ls' } });
    expect(allowed.status, allowed.stderr).toBe(0);
    expect(allowed.stdout).not.toContain('"deny"');
  }, 120_000);

  it('Cursor: beforeShellExecution answers deny in Cursor\'s format', () => {
    const command = installedCommand('cursor', 'beforeShellExecution');
    const denied = runAsTheAgent(command, { conversation_id: 'c-e2e', generation_id: 'g', hook_event_name: 'beforeShellExecution', command: 'rm -rf /', cwd: env.project, workspace_roots: [env.project] });
    expect(denied.status, denied.stderr).toBe(0);
    expect((JSON.parse(denied.stdout) as { permission: string }).permission).toBe('deny');
  }, 120_000);
});
