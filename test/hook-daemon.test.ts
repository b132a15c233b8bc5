import { spawn } from 'node:child_process';
import { chmodSync, copyFileSync, linkSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync, existsSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { daemonDecider } from '../src/hooks/daemon/client.js';
import { daemonSocket } from '../src/hooks/daemon/location.js';
import { listDaemons, running, stopDaemons } from '../src/hooks/daemon/status.js';
import { runHook } from '../src/hooks/run-hook.js';
import { HOOK_ENTRY } from '../src/hooks/daemon/spawn.js';
import { ROOT, runCli } from './helpers/cli.js';
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
  const e: Record<string, string | undefined> = { ...process.env, AGENTGUARD_HOOK_DAEMON: '1', AGENTGUARD_HOOK_DAEMON_DIR: sockets, AGENTGUARD_HOOK_DAEMON_TIMEOUT_MS: '60000', AGENTGUARD_SIDECAR_URL: undefined, AGENTGUARD_TOKEN: undefined, AGENTGUARD_PROJECT: undefined, AGENTGUARD_HOOK_BYPASS: undefined, ...extra };
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

/** The same through `node bin/agentguard-hook.js` (a fresh process: one that imports a changed plugin module anew). */
function verdictInChild(command: string, e: NodeJS.ProcessEnv): Promise<{ decision: string; code: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [HOOK_ENTRY, 'claude-code'], { cwd: project, env: e });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.resume();
    child.on('error', reject);
    child.on('close', (code) => {
      const out = stdout.trim() === '' ? undefined : (JSON.parse(stdout) as { hookSpecificOutput?: { permissionDecision?: string } });
      resolve({ decision: out?.hookSpecificOutput?.permissionDecision ?? 'defer', code: code ?? -1 });
    });
    child.stdin.end(payload(command));
  });
}

/** Daemon processes started for this project's socket (from their command lines). */
function daemonProcesses(e = env()): number[] {
  const socket = socketOf(e);
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .filter((name) => {
      try {
        return readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0').includes(socket);
      } catch {
        return false;
      }
    })
    .map(Number);
}

const alive = running;

async function until<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, tries = 2400): Promise<T> {
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

  it('serves concurrent hooks; with AGENTGUARD_HOOK_DAEMON=0 no daemon is asked or started', async () => {
    expect(await verdict('git status', inProcess())).toMatchObject({ decision: 'defer', stderr: '' });
    expect(daemonProcesses()).toEqual([]);
    expect(existsSync(socketOf())).toBe(false);
    await verdict('git status', env());
    await theDaemon();
    const commands = Array.from({ length: 8 }, (_, i) => (i % 2 === 0 ? `rm -rf t${i}` : `git status ${i}`));
    const answers = await Promise.all(commands.map((command) => verdict(command, env())));
    expect(answers.map((a) => a.decision)).toEqual(commands.map((c) => (c.startsWith('rm') ? 'deny' : 'defer')));
    expect(await theDaemon()).toMatchObject({ decisions: 8, engineOpens: 1 });
  }, TIMEOUT);

  it('never decides with a stale policy: edits between calls (same size, same modification time) are seen by the next call', async () => {
    const file = join(project, 'agentguard/policy.yaml');
    writeFileSync(file, policyText('allow'));
    startDaemonProcess();
    await theDaemon();
    let served = 0;
    let opens = 1;
    let current: 'allow' | 'deny ' = 'allow';
    expect((await verdict('make all', env())).decision).toBe('defer');
    served++;
    expect(await theDaemon()).toMatchObject({ decisions: 1, engineOpens: 1 });
    await fc.assert(
      fc.asyncProperty(fc.array(fc.constantFrom<'allow' | 'deny '>('allow', 'deny '), { minLength: 1, maxLength: 4 }), async (edits) => {
        for (const effect of edits) {
          writeKeepingTime(file, policyText(effect));
          const viaDaemon = await verdict('make all', env());
          const own = await verdict('make all', inProcess());
          expect(viaDaemon).toEqual(own);
          expect(viaDaemon.decision).toBe(effect === 'allow' ? 'defer' : 'deny');
          served++;
          if (effect !== current) opens++;
          current = effect;
          // Answered by the daemon, not by the fallback; the engine opened again exactly when the bytes changed.
          expect(await theDaemon()).toMatchObject({ decisions: served, engineOpens: opens });
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

  it('a changed guardrail plugin module ends the daemon (ES modules load once): that call is decided in process and the next daemon imports it anew', async () => {
    const file = join(project, 'agentguard/policy.yaml');
    const plugin = join(project, 'agentguard/keyword.mjs');
    copyFileSync(join(ROOT, 'test/fixtures/guardrail-plugins/keyword.mjs'), plugin);
    writeFileSync(file, `${policyText('allow')}  - { id: no-codenames, effect: deny, when: { kind: shell, detect: { guardrail: codenames, in: input.command } }, message: codename }\nguardrails:\n  codenames:\n    module: ./keyword.mjs\n    config: { words: [nightjar] }\n`);
    expect((await verdictInChild('echo nightjar', env())).decision).toBe('deny');
    const first = await theDaemon();
    expect((await verdictInChild('echo nightjar', env())).decision).toBe('deny');
    // The module now finds nothing: a daemon that kept the old module would still deny.
    writeFileSync(plugin, `${readFileSync(plugin, 'utf8')}\n// changed\n`.replace(/detect\s*\(/, 'detect(text) { return []; },\n  detectOld('));
    const own = await verdictInChild('echo nightjar', inProcess());
    expect(await verdictInChild('echo nightjar', env())).toEqual(own);
    await until('the stale daemon to exit', () => !alive(first.pid) || undefined);
    const second = await theDaemon();
    expect(second.pid).not.toBe(first.pid);
    expect(await verdictInChild('echo nightjar', env())).toEqual(own);
    expect((await theDaemon()).decisions).toBe(1);
    writeFileSync(file, policyText('allow'));
  }, TIMEOUT);

  it('two daemons racing for one socket end as one: the other exits; a stale socket file nobody answers at is replaced', async () => {
    const a = startDaemonProcess();
    const b = startDaemonProcess();
    const survivor = await theDaemon();
    expect([a, b]).toContain(survivor.pid);
    const loser = survivor.pid === a ? b : a;
    await until('the other daemon to exit', () => !alive(loser) || undefined);
    expect(alive(survivor.pid)).toBe(true);
    await stopAll();
    expect(existsSync(socketOf())).toBe(false);

    // A socket file left by a daemon that was killed: a hard link to a socket whose server is gone.
    const server = net.createServer();
    const temp = join(sockets, 'left.sock');
    await new Promise<void>((resolve) => server.listen(temp, resolve));
    linkSync(temp, socketOf());
    await new Promise<void>((resolve) => server.close(() => resolve()));
    expect(existsSync(socketOf())).toBe(true);
    expect(await verdict('rm -rf x', env())).toEqual(await verdict('rm -rf x', inProcess()));
    await theDaemon();
    expect((await verdict('rm -rf x', env())).decision).toBe('deny');
    expect((await theDaemon()).decisions).toBe(1);
  }, TIMEOUT);

  it('exits when its socket file is removed, on SIGTERM (removing its socket) and after the idle time', async () => {
    let daemon = await (startDaemonProcess(), theDaemon());
    rmSync(socketOf());
    await until('the daemon to exit after its socket was removed', () => !alive(daemon.pid) || undefined);

    daemon = await (startDaemonProcess(), theDaemon());
    process.kill(daemon.pid, 'SIGTERM');
    await until('the daemon to exit on SIGTERM', () => !alive(daemon.pid) || undefined);
    expect(existsSync(socketOf())).toBe(false);

    const idle = env({ AGENTGUARD_HOOK_DAEMON_IDLE_MS: '300' });
    daemon = await (startDaemonProcess(idle), theDaemon(idle));
    await until('the idle daemon to exit', () => !alive(daemon.pid) || undefined);
    expect(existsSync(socketOf(idle))).toBe(false);
  }, TIMEOUT);

  it('a socket folder others could use, or a symbolic link, means no daemon: the hook says why and decides in its own process', async () => {
    const open = join(root, 'open');
    mkdirSync(open, { mode: 0o755 });
    chmodSync(open, 0o755);
    const linked = join(root, 'linked');
    symlinkSync(sockets, linked);
    for (const [dir, why] of [
      [open, /can be used by other users \(mode 755/],
      [linked, /is not a folder \(a symbolic link/],
    ] as const) {
      const result = await verdict('rm -rf x', env({ AGENTGUARD_HOOK_DAEMON_DIR: dir }));
      expect(result.decision).toBe('deny');
      expect(result.stderr).toMatch(why);
      expect(result.stderr).toMatch(/decided in this process; set AGENTGUARD_HOOK_DAEMON=0/);
    }
    expect(await listDaemons(env({ AGENTGUARD_HOOK_DAEMON_DIR: open }))).toEqual([]);
    expect(await listDaemons(env())).toEqual([]);
  }, TIMEOUT);
});

describe('a daemon that answers badly is never trusted', () => {
  let fake: net.Server | undefined;

  afterEach(async () => {
    await new Promise<void>((resolve) => (fake ? fake.close(() => resolve()) : resolve()));
    fake = undefined;
  });

  /** A fake daemon at the project's socket that answers each request line with `reply(request)` (nothing when undefined). */
  async function fakeDaemon(reply: (request: { id: number; action?: unknown }) => string | undefined, e = env()): Promise<void> {
    mkdirSync(sockets, { recursive: true, mode: 0o700 });
    fake = net.createServer((socket) => {
      let buffered = '';
      socket.on('data', (chunk) => {
        buffered += chunk.toString();
        for (let i = buffered.indexOf('\n'); i !== -1; i = buffered.indexOf('\n')) {
          const request = JSON.parse(buffered.slice(0, i)) as { id: number };
          buffered = buffered.slice(i + 1);
          const line = reply(request);
          if (line !== undefined) socket.write(line);
        }
      });
    });
    await new Promise<void>((resolve) => fake!.listen(socketOf(e), resolve));
  }

  const decision = (request: { id: number; action?: unknown }, effect: string) =>
    JSON.stringify({ v: 1, id: request.id, decision: { id: 'dec_fake', effect, action: request.action, reasons: [{ effect, message: 'fake' }], findings: [], policy: { name: 'fake', hash: '' }, elapsedUs: 1 } }) + '\n';

  it.each([
    ['a line that is not JSON', () => 'allow\n'],
    ['another protocol version', (r: { id: number; action?: unknown }) => decision(r, 'allow').replace('"v":1', '"v":2')],
    ['an answer that is not a decision', (r: { id: number }) => JSON.stringify({ v: 1, id: r.id, decision: { effect: 'allow' } }) + '\n'],
    ['an error', (r: { id: number }) => JSON.stringify({ v: 1, id: r.id, error: 'broken' }) + '\n'],
    ['no answer at all', () => undefined],
  ])('%s: the hook decides in its own process, as without a daemon', async (_name, reply) => {
    const e = env({ AGENTGUARD_HOOK_DAEMON_TIMEOUT_MS: '500' });
    let asked = 0;
    await fakeDaemon((request) => (asked++, reply(request)), e);
    for (const command of ['rm -rf x', 'git status']) {
      const own = await verdict(command, inProcess());
      const result = await verdict(command, e);
      expect({ ...result, stderr: '' }).toEqual(own);
      expect(result.stderr).toMatch(/the hook decision daemon did not answer \(.+\), so this call was decided in this process/);
    }
    expect(asked).toBe(2);
    // A daemon that is there but broken is not replaced by the hook (only a missing or stale one is).
    expect(daemonProcesses(e)).toEqual([]);
  }, TIMEOUT);

  it('an effect agentguard does not know is a deny, even for a call the policy allows', async () => {
    await fakeDaemon((r) => decision(r, 'allow_all'));
    expect((await verdict('git status', inProcess())).decision).toBe('defer');
    const result = await verdict('git status', env());
    expect(result.decision).toBe('deny');
  }, TIMEOUT);
});

describe('audit trail and approvals through the daemon', () => {
  it('decisions made by the daemon and in process are in one intact trail, with the hook context', async () => {
    const commands = ['echo audit-a', 'rm -rf audit-b', 'make audit-c', 'echo audit-d'];
    for (const [i, command] of commands.entries()) {
      const r = await verdict(command, i % 2 === 0 ? env() : inProcess());
      expect(r.stderr).toBe('');
      if (i === 0) await theDaemon();
    }
    // 'make audit-c' went through the daemon; the others were decided in the hooks' own processes.
    expect((await theDaemon()).decisions).toBe(1);
    await stopAll();
    const verify = runCli(['audit', 'verify'], { cwd: project });
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
    const records = (JSON.parse(runCli(['audit', 'query', '--json', '--limit', '1000'], { cwd: project }).stdout) as Array<{ type: string; data: { action?: { input?: { command?: string }; context?: Record<string, unknown> } } }>);
    const ours = records.filter((r) => r.type === 'decision' && commands.includes(r.data.action?.input?.command ?? ''));
    expect(ours.map((r) => r.data.action?.input?.command).sort()).toEqual([...commands].sort());
    // The same context whichever process decided.
    for (const record of ours) expect(record.data.action?.context).toEqual({ agent: 'claude-code', session: { id: 'sess-daemon' }, cwd: project, hook: { event: 'PreToolUse', tool: 'Bash' } });
  }, TIMEOUT);

  it('waits for an approval through the daemon (settle), for agents that cannot ask', async () => {
    await verdict('git status', env());
    await theDaemon();
    const decider = daemonDecider({ socket: socketOf(), answerTimeoutMs: 20_000, openLocal: () => Promise.reject(new Error('the daemon should have answered')), spawn: () => undefined, note: () => undefined });
    try {
      const pending = await decider.decide({ kind: 'shell', name: 'shell.exec', input: { command: 'git push origin main' }, context: { agent: 'gemini-cli', session: 'sess-daemon', cwd: project } });
      expect(pending).toMatchObject({ effect: 'require_approval', approval: { id: expect.any(String) } });
      expect(await decider.settle(pending, 0)).toMatchObject({ effect: 'deny', reasons: expect.arrayContaining([expect.objectContaining({ code: 'approval_required' })]) });
      const waiting = decider.settle(pending, 60_000);
      const approve = runCli(['approvals', 'approve', pending.approval!.id], { cwd: project });
      expect(approve.code, approve.stderr).toBe(0);
      expect(await waiting).toMatchObject({ effect: 'allow' });
    } finally {
      await decider.close();
    }
  }, TIMEOUT);
});

describe('agentguard hooks status / stop-daemons', () => {
  it('lists the running daemons and stops them, waiting until they have exited', async () => {
    await verdict('git status', env());
    const daemon = await theDaemon();
    await verdict('git status', env());
    const cliEnv = { AGENTGUARD_HOOK_DAEMON_DIR: sockets };
    const status = runCli(['hooks', 'status', '--json'], { cwd: project, env: cliEnv });
    expect((JSON.parse(status.stdout) as { daemons: unknown[] }).daemons).toEqual([{ pid: daemon.pid, projectDir: project, socket: socketOf(), started: daemon.started, decisions: 1, engineOpens: 1, version: expect.any(String) }]);
    const text = runCli(['hooks', 'status'], { cwd: project, env: cliEnv }).stdout;
    expect(text).toContain(`Hook decision daemons (stop them with \`agentguard hooks stop-daemons\`):\n  ${project}\n    pid ${daemon.pid}, since ${daemon.started}, 1 decision served, engine opened 1×`);
    const stopped = runCli(['hooks', 'stop-daemons', '--json'], { cwd: project, env: cliEnv });
    expect(stopped.code, stopped.stderr).toBe(0);
    expect((JSON.parse(stopped.stdout) as { stopped: Array<{ pid: number }> }).stopped.map((d) => d.pid)).toEqual([daemon.pid]);
    expect(alive(daemon.pid)).toBe(false);
    expect(existsSync(socketOf())).toBe(false);
    expect(runCli(['hooks', 'stop-daemons'], { cwd: project, env: cliEnv }).stdout).toBe('No hook decision daemon was running.\n');
  }, TIMEOUT);
});
