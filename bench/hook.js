/**
 * Bench section: what a coding agent waits for on every tool call when its hook goes through agentguard. Each sample
 * is one whole process, as agents run it: `node bin/agentguard-hook.js claude-code` fed a Claude Code PreToolUse
 * payload (a Bash call) on stdin, until it exits. Side by side in alternating rounds: `node -e 0` (bare Node start,
 * the floor); local mode as users get it, the hook asking the project's hook decision daemon (src/hooks/daemon, started
 * before the timed rounds, its start-up reported on its own); local mode deciding in the hook's own process
 * (AGENTGUARD_HOOK_DAEMON=0: policy load, shell view, audit record) for a command of plain words and for one with a glob
 * (which loads the shell parser); and the hook asking a sidecar that already runs (started here, same pack).
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatRatio, markdownTable } from './lib/report.js';

export const id = 'hook';
export const title = 'Coding-agent hooks: wall time of one `agentguard-hook.js claude-code` call';

const TARGET_LOCAL = 3;
const TARGET_SIDECAR = 2;
const ROUNDS = Number(process.env.AGENTGUARD_BENCH_HOOK_ROUNDS ?? 20);
const ENTRY = fileURLToPath(new URL('../bin/agentguard-hook.js', import.meta.url));
const PACK = fileURLToPath(new URL('../policies/coding-agent/policy.yaml', import.meta.url));

function timeProcess(args, { cwd, env, input }) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, args, { cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.resume();
    child.on('error', reject);
    child.on('close', (code) => resolve({ ms: performance.now() - started, code, stdout }));
    child.stdin.end(input ?? '');
  });
}

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];

export async function run({ log }) {
  const dir = mkdtempSync(join(tmpdir(), 'agentguard-bench-hook-'));
  const project = join(dir, 'project');
  mkdirSync(join(project, 'agentguard'), { recursive: true });
  writeFileSync(join(project, 'agentguard.config.json'), JSON.stringify({ policy: 'agentguard/policy.yaml', policyDir: 'agentguard', dataDir: '.agentguard' }));
  writeFileSync(join(project, 'agentguard/policy.yaml'), readFileSync(PACK, 'utf8'));
  const payload = (i, command = 'git status --short') =>
    JSON.stringify({ session_id: `bench-${i}`, transcript_path: '/tmp/t.jsonl', cwd: project, permission_mode: 'default', hook_event_name: 'PreToolUse', tool_name: 'Bash', tool_input: { command, description: 'status' }, tool_use_id: `toolu_${i}` });

  const [{ buildSidecarApp }, { AuditRecorder }, { Policy }] = await Promise.all([import('../dist/sidecar/app.js'), import('../dist/core/audit/recorder.js'), import('../dist/core/policy/policy.js')]);
  const dataDir = join(dir, 'sidecar-data');
  const recorder = await AuditRecorder.open({ dataDir });
  const authenticate = async (header) => (header === 'Bearer bench-hook' ? { ok: true, token: { id: 'tok_bench', scope: { kind: 'agent', agentId: 'bench' } } } : { ok: false, reason: 'unknown' });
  const app = await buildSidecarApp({ policy: await Policy.fromFile(PACK), policyPath: PACK, recorder, dataDir, authenticate });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const url = `http://127.0.0.1:${app.server.address().port}`;
  const baseEnv = { ...process.env };
  for (const key of ['AGENTGUARD_SIDECAR_URL', 'AGENTGUARD_TOKEN', 'AGENTGUARD_PROJECT', 'AGENTGUARD_HOOK_BYPASS', 'AGENTGUARD_HOOK_DAEMON']) delete baseEnv[key];
  const daemonEnv = { ...baseEnv, AGENTGUARD_HOOK_DAEMON_DIR: join(dir, 's') };
  const ownEnv = { ...baseEnv, AGENTGUARD_HOOK_DAEMON: '0' };
  const [{ daemonSocket }, { isLive }, { stopDaemons }] = await Promise.all([import('../dist/hooks/daemon/location.js'), import('../dist/hooks/daemon/client.js'), import('../dist/hooks/daemon/status.js')]);

  const ways = [
    { label: '`node -e 0` (bare Node start)', args: ['-e', '0'], env: baseEnv },
    { label: 'hook, local, through the hook decision daemon (default)', args: [ENTRY, 'claude-code'], env: daemonEnv, check: true },
    { label: 'hook, local, in its own process (AGENTGUARD_HOOK_DAEMON=0; project policy, audit on)', args: [ENTRY, 'claude-code'], env: ownEnv, check: true },
    // A glob, so not plain words: the shell view loads its parser (mvdan-sh), as for any command with $, globs, redirections, …
    { label: 'hook, local in its own process, `ls src/*.ts` piped into `wc -l` (shell parser loaded)', args: [ENTRY, 'claude-code'], env: ownEnv, check: true, command: 'ls src/*.ts | wc -l' },
    { label: 'hook, sidecar mode (AGENTGUARD_SIDECAR_URL)', args: [ENTRY, 'claude-code'], env: { ...baseEnv, AGENTGUARD_SIDECAR_URL: url, AGENTGUARD_TOKEN: 'bench-hook' }, check: true },
  ];
  const samples = ways.map(() => []);
  const failures = [];
  let daemonStartMs;
  let daemonFirstMs;
  try {
    // The daemon a first hook would start, started here and timed until it answers (then warm, as after a first call).
    const where = daemonSocket(project, daemonEnv);
    if (!where.socket) throw new Error(`no hook decision daemon: ${where.problem}`);
    const daemonStarted = performance.now();
    spawn(process.execPath, [ENTRY, '--daemon', where.socket, project], { cwd: project, env: daemonEnv, detached: true, stdio: 'ignore' }).unref();
    while (!(await isLive(where.socket))) await new Promise((resolve) => setTimeout(resolve, 5));
    daemonStartMs = performance.now() - daemonStarted;
    // One unrecorded warm-up each (file system cache, the sidecar's first request).
    const warmUps = [];
    for (const way of ways) warmUps.push((await timeProcess(way.args, { cwd: project, env: way.env, input: payload(0, way.command) })).ms);
    daemonFirstMs = warmUps[1];
    for (let round = 1; round <= ROUNDS; round++) {
      for (const [i, way] of ways.entries()) {
        const result = await timeProcess(way.args, { cwd: project, env: way.env, input: payload(round, way.command) });
        if (way.check && (result.code !== 0 || result.stdout !== '')) failures.push(`${way.label}: round ${round} did not allow the call (exit ${result.code}, ${result.stdout.trim()})`);
        samples[i].push(result.ms);
      }
      if (round % 5 === 0) log(`  round ${round}/${ROUNDS}`);
    }
  } finally {
    await stopDaemons(daemonEnv);
    await app.close();
    await recorder.close();
    rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
  }
  const stats = samples.map((list) => {
    const sorted = [...list].sort((a, b) => a - b);
    return { p50: percentile(sorted, 50), p95: percentile(sorted, 95) };
  });
  const floor = stats[0].p50;
  const rows = ways.map((way, i) => [way.label, stats[i].p50.toFixed(0), stats[i].p95.toFixed(0), formatRatio(stats[i].p50 / floor)]);
  const local = stats[1].p50 / floor;
  const own = stats[2].p50 / floor;
  const sidecar = stats[4].p50 / floor;
  const verdict = (ratio, target) => `${formatRatio(ratio)} (target ≤ ${target}×: ${ratio <= target ? 'met' : 'NOT met'})`;
  const markdown = [
    markdownTable(['', 'p50 ms', 'p95 ms', 'p50 vs node -e 0'], rows, ['l', 'r', 'r', 'r']),
    '',
    `${ROUNDS} alternating rounds, one process per sample, a Claude Code PreToolUse Bash payload decided by policies/coding-agent (the shell view reads git status --short from its words, the command with a glob through the parser). Local through the daemon (the default): ${verdict(local, TARGET_LOCAL)}; local in the hook's own process: ${formatRatio(own)}; sidecar: ${verdict(sidecar, TARGET_SIDECAR)}. The daemon answered ${daemonStartMs === undefined ? '?' : daemonStartMs.toFixed(0)} ms after its spawn and the first hook through it took ${daemonFirstMs === undefined ? '?' : daemonFirstMs.toFixed(0)} ms (the daemon opening the engine); a user's first hook call decides in its own process and starts the daemon in the background.`,
  ].join('\n');
  return { markdown, failures };
}
