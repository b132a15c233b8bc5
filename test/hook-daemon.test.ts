import { spawn } from 'node:child_process';
import { chmodSync, copyFileSync, linkSync, mkdirSync, readFileSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync, existsSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { daemonDecider } from '../src/hooks/daemon/client.js';
import { daemonSocket } from '../src/hooks/daemon/location.js';
import { listDaemons, stopDaemons } from '../src/hooks/daemon/status.js';
import { runHook } from '../src/hooks/run-hook.js';
import { HOOK_ENTRY } from '../src/hooks/daemon/spawn.js';
import { BIN, ROOT } from './helpers/cli.js';
import { makeTempDir } from './helpers/temp-dirs.js';

/**
 * The hook decision daemon (src/hooks/daemon): hooks with the daemon on (as users get them) ask a daemon that the
 * first hook started (bin/agentguard-hook.js --daemon, from dist/), and every answer is the one a hook deciding in its
 * own process gives for the same files. Every daemon a test starts is stopped (and its exit checked by pid) after it.
 */
const TIMEOUT = 180_000;

const policyText = (effect: 'allow' | 'deny ') => `version: 1
name: hook-daemon
default: deny
rules:
  - { id: shell, effect: allow, when: { kind: shell } }
  - { id: switch, effect: ${effect}, when: { kind: shell, input.command: { startsWith: 'make ' } }, message: make is switched off }
  - { id: no-rm, effect: deny, when: { kind: shell, input.command: { startsWith: 'rm ' } }, message: rm is not allowed here }
  - { id: push-needs-approval, effect: require_approval, when: { kind: shell, input.command: { startsWith: 'git push' } }, message: pushes need a person }
`;

let root: string;
let project: string;
let sockets: string;
const started = new Set<number>();

function env(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const e: Record<string, string | undefined> = { ...process.env, AGENTGUARD_HOOK_DAEMON: '1', AGENTGUARD_HOOK_DAEMON_DIR: sockets, AGENTGUARD_SIDECAR_URL: undefined, AGENTGUARD_TOKEN: undefined, AGENTGUARD_PROJECT: undefined, AGENTGUARD_HOOK_BYPASS: undefined, ...extra };
  for (const key of Object.keys(e)) if (e[key] === undefined) delete e[key];
  return e as NodeJS.ProcessEnv;
}
const inProcess = (): NodeJS.ProcessEnv => env({ AGENTGUARD_HOOK_DAEMON: '0' });

let toolUse = 0;
const payload = (command: string, cwd = project) =>
  JSON.stringify({ session_id: 'sess-daemon', transcript_path: '/tmp/t.jsonl', cwd, permission_mode: 'default', hook_event_name: 'PreToolUse', tool_name: 'Bash', tool_input: { command }, tool_use_id: `toolu_${++toolUse}` });

/** What the agent is told: the permission decision (or "defer" when the hook has no opinion), and the exit code. */
async function verdict(command: string, e: NodeJS.ProcessEnv, agent = 'claude-code'): Promise<{ decision: string; code: number; stderr: string }> {
  const result = await runHook({ agent, stdin: payload(command), env: e });
  const out = result.stdout.trim() === '' ? undefined : (JSON.parse(result.stdout) as { hookSpecificOutput?: { permissionDecision?: string } });
  return { decision: out?.hookSpecificOutput?.permissionDecision ?? 'defer', code: result.exitCode, stderr: result.stderr };
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function until<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, tries = 600): Promise<T> {
  for (let i = 0; i < tries; i++) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`gave up waiting for ${what}`);
}

/** The one daemon of the socket folder, once it answers. */
async function theDaemon(e = env()) {
  const daemon = await until('a daemon to answer', async () => {
    const list = await listDaemons(e);
    return list.length === 1 ? list[0] : undefined;
  });
  started.add(daemon.pid);
  return daemon;
}

function socketOf(e = env()): string {
  const where = daemonSocket(project, e);
  if (!('socket' in where)) throw new Error(where.problem);
  return where.socket;
}

function startDaemonProcess(e = env()): number {
  const child = spawn(process.execPath, [HOOK_ENTRY, '--daemon', socketOf(e), project], { cwd: project, env: e, detached: true, stdio: 'ignore' });
  child.unref();
  started.add(child.pid!);
  return child.pid!;
}

async function stopAll(): Promise<void> {
  await stopDaemons(env());
  for (const pid of started) if (alive(pid)) process.kill(pid, 'SIGTERM');
  for (const pid of started) await until(`daemon ${pid} to exit`, () => !alive(pid) || undefined);
  started.clear();
}

/** Writes the policy and puts its modification time back, so nothing can tell the edit by the clock. */
function writeKeepingTime(file: string, text: string): void {
  const before = statSync(file);
  writeFileSync(file, text);
  utimesSync(file, before.atime, before.mtime);
}

beforeAll(() => {
  root = makeTempDir('hook-daemon-');
  project = join(root, 'p');
  sockets = join(root, 's');
  mkdirSync(join(project, 'agentguard'), { recursive: true });
  writeFileSync(join(project, 'agentguard.config.json'), JSON.stringify({ policy: 'agentguard/policy.yaml', policyDir: 'agentguard', dataDir: '.agentguard' }));
  writeFileSync(join(project, 'agentguard/policy.yaml'), policyText('allow'));
});

afterEach(stopAll, TIMEOUT);
afterAll(stopAll, TIMEOUT);

describe('hook decision daemon', () => {
  it('the first hook decides in its own process and starts a daemon; the next hooks are answered by it, with the same answers', async () => {
    expect(await verdict('git status', env())).toMatchObject({ decision: 'defer', code: 0 });
    const daemon = await theDaemon();
    expect(daemon).toMatchObject({ projectDir: project, decisions: 0, socket: socketOf() });
    expect(statSync(sockets).mode & 0o777).toBe(0o700);
    for (const command of ['git status', 'rm -rf build', 'make all', 'curl x']) {
      expect(await verdict(command, env())).toEqual(await verdict(command, inProcess()));
    }
    expect((await theDaemon()).decisions).toBe(4);
    expect((await verdict('rm -rf build', env())).decision).toBe('deny');
  }, TIMEOUT);

  it('never decides with a stale policy: edits between calls (same size, same modification time) are seen by the next call', async () => {
    const file = join(project, 'agentguard/policy.yaml');
    writeFileSync(file, policyText('allow'));
    startDaemonProcess();
    await theDaemon();
    let served = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(fc.constantFrom<'allow' | 'deny '>('allow', 'deny '), { minLength: 1, maxLength: 4 }), async (edits) => {
        for (const effect of edits) {
          writeKeepingTime(file, policyText(effect));
          const viaDaemon = await verdict('make all', env());
          const own = await verdict('make all', inProcess());
          expect(viaDaemon).toEqual(own);
          expect(viaDaemon.decision).toBe(effect === 'allow' ? 'defer' : 'deny');
          served++;
          // Answered by the daemon, not by the fallback.
          expect((await theDaemon()).decisions).toBe(served);
        }
      }),
      { numRuns: 6 },
    );
    writeFileSync(file, policyText('allow'));
  }, TIMEOUT);

  it('sees edits of an included file and of the config', async () => {
    const file = join(project, 'agentguard/policy.yaml');
    const extra = join(project, 'agentguard/extra.yaml');
    writeFileSync(extra, 'version: 1\nname: extra\nrules:\n  - { id: no-make, effect: deny , when: { kind: shell, input.command: { startsWith: \'make \' } }, message: make is off }\n');
    writeFileSync(file, policyText('allow').replace('rules:\n', 'include: [./extra.yaml]\nrules:\n'));
    expect((await verdict('make all', env())).decision).toBe('deny');
    await theDaemon();
    expect((await verdict('make all', env())).decision).toBe('deny');
    writeKeepingTime(extra, readFileSync(extra, 'utf8').replace('effect: deny ', 'effect: allow'));
    expect(await verdict('make all', env())).toEqual(await verdict('make all', inProcess()));
    expect((await verdict('make all', env())).decision).toBe('defer');
    // A config naming another policy file.
    writeFileSync(join(project, 'agentguard/other.yaml'), policyText('deny '));
    const config = join(project, 'agentguard.config.json');
    const original = readFileSync(config, 'utf8');
    writeFileSync(config, original.replace('agentguard/policy.yaml', 'agentguard/other.yaml'));
    expect((await verdict('make all', env())).decision).toBe('deny');
    expect((await theDaemon()).decisions).toBe(4);
    writeFileSync(config, original);
    writeFileSync(file, policyText('allow'));
  }, TIMEOUT);
});
