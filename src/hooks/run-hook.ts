import { existsSync } from 'node:fs';
import { isPlainObject } from '../core/plain-object.js';
import type { McpDecider } from '../mcp/decider.js';
import { agentDisplayName, CODING_AGENT_IDS, isCodingAgentId } from './agent-ids.js';
import { loadAdapter } from './agents/index.js';
import { decidePost, decidePre, type HookDecideOptions } from './decide.js';
import { DAEMON_ENV, daemonEnabled, daemonSocket } from './daemon/location.js';
import { hookProjectDir } from './project.js';
import { answer, HookPayloadError, type AgentAdapter, type HookAnswer, type ParsedHook, type PostToolHook, type PreToolHook } from './types.js';

/** The environment variable that lets tool calls through without a decision, on purpose; each use is warned about and recorded. */
export const BYPASS_ENV = 'AGENTGUARD_HOOK_BYPASS';
/** Milliseconds a call the policy sends for approval waits for a person, for agents that cannot ask themselves (default 0). */
export const APPROVAL_WAIT_ENV = 'AGENTGUARD_HOOK_APPROVAL_WAIT_MS';
/** Milliseconds the whole decision may take before the hook denies (default 20000, below every agent's hook timeout). */
export const TIMEOUT_ENV = 'AGENTGUARD_HOOK_TIMEOUT_MS';
export const DEFAULT_TIMEOUT_MS = 20_000;

export interface HookRunOptions {
  agent: string;
  /** The payload the agent wrote to the hook's standard input. */
  stdin: string;
  env: NodeJS.ProcessEnv;
  /** Overrides $AGENTGUARD_HOOK_APPROVAL_WAIT_MS. */
  approvalWaitMs?: number;
}

function millis(value: string | undefined, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  return Number.isFinite(n) && n >= 0 ? Math.floor(n) : fallback;
}

const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

function bypassHint(): string {
  return `To let tool calls through without agentguard on purpose, set ${BYPASS_ENV}=1 in the agent's environment (each bypassed call is warned about and recorded).`;
}

/** The hook's answer to one payload, in the agent's own format. Never throws: whatever breaks, the call is blocked. */
export async function runHook(options: HookRunOptions): Promise<HookAnswer> {
  if (!isCodingAgentId(options.agent)) {
    return answer('', 2, `agentguard hook: unknown coding agent "${options.agent}"; use one of ${CODING_AGENT_IDS.join(', ')} (the hook's command line names it).\n`);
  }
  const adapter = await loadAdapter(options.agent);
  let hook: ParsedHook;
  try {
    hook = parseHook(adapter, options.stdin);
  } catch (error) {
    const problem = error instanceof HookPayloadError ? error.message : `it could not be read (${messageOf(error)})`;
    return adapter.answerFailure(`agentguard blocked this call: the ${agentDisplayName(adapter.id)} hook payload is not one agentguard understands: ${problem}. Update agentguard, or check the hook's command line names the right agent. ${bypassHint()}`, undefined);
  }
  if (hook.phase === 'other') return adapter.answerNeutral(hook);
  const timeoutMs = millis(options.env[TIMEOUT_ENV], DEFAULT_TIMEOUT_MS);
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<HookAnswer>((resolve) => {
    timer = setTimeout(
      () => resolve(adapter.answerFailure(`agentguard blocked this call: no decision within ${timeoutMs} ms (${TIMEOUT_ENV}). Check the policy's guardrails and the sidecar with \`agentguard doctor\`. ${bypassHint()}`, hook.phase as 'pre' | 'post')),
      timeoutMs,
    );
    timer.unref?.();
  });
  try {
    return await Promise.race([decideHook(adapter, hook, options), deadline]);
  } catch (error) {
    return adapter.answerFailure(`agentguard blocked this call: it failed while deciding (${messageOf(error)}). Run \`agentguard doctor\`. ${bypassHint()}`, hook.phase);
  } finally {
    clearTimeout(timer);
  }
}

function parseHook(adapter: AgentAdapter, stdin: string): ParsedHook {
  if (stdin.trim() === '') throw new HookPayloadError('standard input was empty (a hook gets the call as JSON on stdin)');
  let payload: unknown;
  try {
    payload = JSON.parse(stdin);
  } catch {
    // Not the parser's message: it quotes the input, which may hold what the agent was about to send.
    throw new HookPayloadError(`standard input is not JSON (${stdin.length} characters)`);
  }
  if (!isPlainObject(payload)) throw new HookPayloadError('standard input is JSON but not an object');
  return adapter.parse(payload);
}

function cwdOf(hook: PreToolHook | PostToolHook): string {
  const action = hook.phase === 'pre' ? hook.actions[0] : hook.action;
  const cwd = action?.context?.cwd;
  return typeof cwd === 'string' ? cwd : process.cwd();
}

interface OpenedHookDecider {
  decider: McpDecider;
  failureHint: string;
  stderr: string[];
}

async function openHookDecider(hook: PreToolHook | PostToolHook, env: NodeJS.ProcessEnv): Promise<OpenedHookDecider | { problem: string }> {
  const stderr: string[] = [];
  const log = (message: string): void => void stderr.push(message.replace(/^agentguard mcp: /, 'agentguard hook: '));
  const url = env.AGENTGUARD_SIDECAR_URL;
  if (url) {
    const token = env.AGENTGUARD_TOKEN;
    if (!token) return { problem: `AGENTGUARD_SIDECAR_URL is set (${url}) but AGENTGUARD_TOKEN is not: set it to a token from \`agentguard token create\`, or unset AGENTGUARD_SIDECAR_URL to decide in this process.` };
    // Not through openDecider: it loads the policy modules, which a sidecar-mode hook does not need on every call.
    const [{ SidecarDecider, checkSidecarOptions }, { sidecarDecider }] = await Promise.all([import('../sdk/sidecar-client.js'), import('../mcp/decider.js')]);
    let decider: McpDecider;
    try {
      decider = sidecarDecider(new SidecarDecider(checkSidecarOptions({ sidecar: { url, token } })), log);
    } catch (error) {
      return { problem: `the sidecar settings cannot be used (${messageOf(error)}): fix AGENTGUARD_SIDECAR_URL and AGENTGUARD_TOKEN, or unset AGENTGUARD_SIDECAR_URL to decide in this process.` };
    }
    return { decider, stderr, failureHint: `Check that the sidecar at ${url} runs (\`agentguard doctor --sidecar-url ${url}\`), or unset AGENTGUARD_SIDECAR_URL to decide in this process. ${bypassHint()}` };
  }
  const cwd = cwdOf(hook);
  const projectDir = hookProjectDir(cwd, env);
  if (projectDir === undefined) {
    return { problem: `there is no agentguard.config.json in ${cwd} or a folder above it, nor in your home folder: run \`agentguard init --template coding-agent\` in the project (or in your home folder for every project) and start its policy from policies/coding-agent, or set AGENTGUARD_PROJECT to a folder that has one.` };
  }
  const failureHint = `Run \`agentguard doctor\` in ${projectDir} to see what to fix. ${bypassHint()}`;
  const openLocal = async (): Promise<McpDecider> => (await (await import('../mcp/open-decider.js')).openDecider({ projectDir, log })).decider;
  // A project folder that does not exist has nothing for a daemon to keep open (and could not be its working folder).
  if (daemonEnabled(env) && existsSync(projectDir)) {
    // The project's hook decision daemon (src/hooks/daemon) keeps the engine open between calls; this process only asks it.
    const where = daemonSocket(projectDir, env);
    if ('socket' in where) {
      const [{ daemonDecider, DAEMON_TIMEOUT_ENV, DEFAULT_ANSWER_TIMEOUT_MS }, { spawnDaemon }] = await Promise.all([import('./daemon/client.js'), import('./daemon/spawn.js')]);
      const decider = daemonDecider({
        socket: where.socket,
        answerTimeoutMs: millis(env[DAEMON_TIMEOUT_ENV], DEFAULT_ANSWER_TIMEOUT_MS),
        openLocal,
        spawn: () => void spawnDaemon(where.socket, projectDir, env),
        note: log,
      });
      return { decider, stderr, failureHint };
    }
    log(`agentguard hook: no hook decision daemon (${where.problem}), so this call was decided in this process; set ${DAEMON_ENV}=0 to turn the daemon off.`);
  }
  return { decider: await openLocal(), stderr, failureHint };
}

async function decideHook(adapter: AgentAdapter, hook: PreToolHook | PostToolHook, options: HookRunOptions): Promise<HookAnswer> {
  if (hook.phase === 'post' && !hook.action) return adapter.answerPost({ kind: 'pass' }, hook);
  const bypass = options.env[BYPASS_ENV] === '1';
  if (bypass) return bypassHook(adapter, hook, options);
  const opened = await openHookDecider(hook, options.env);
  if ('problem' in opened) return adapter.answerFailure(`agentguard blocked this call: ${opened.problem} ${bypassHint()}`, hook.phase);
  const decideOptions: HookDecideOptions = {
    decider: opened.decider,
    adapter,
    approvalWaitMs: options.approvalWaitMs ?? millis(options.env[APPROVAL_WAIT_ENV], 0),
    failureHint: opened.failureHint,
  };
  try {
    const result = hook.phase === 'pre' ? adapter.answerPre(await decidePre(hook, decideOptions), hook) : adapter.answerPost(await decidePost(hook, decideOptions), hook);
    const notes = opened.stderr.map((line) => `${line}\n`).join('');
    return notes === '' ? result : { ...result, stderr: notes + result.stderr };
  } finally {
    await opened.decider.close().catch(() => undefined);
  }
}

/**
 * $AGENTGUARD_HOOK_BYPASS=1: the call goes on as if there were no hook, with a warning the user sees; it is still
 * decided and recorded (marked `context.hook.bypass: true`) when agentguard can, so the trail shows what went past it.
 */
async function bypassHook(adapter: AgentAdapter, hook: PreToolHook | PostToolHook, options: HookRunOptions): Promise<HookAnswer> {
  let recorded = 'it could not be recorded';
  try {
    const opened = await openHookDecider(hook, options.env);
    if (!('problem' in opened)) {
      try {
        const actions = hook.phase === 'pre' ? hook.actions : hook.action ? [hook.action] : [];
        for (const action of actions) {
          const context = action.context ?? {};
          const site = isPlainObject(context.hook) ? context.hook : {};
          const decision = await opened.decider.decide({ ...action, context: { ...context, hook: { ...site, bypass: true } } });
          recorded = decision.id.startsWith('dec_gateway_') ? recorded : `recorded as ${decision.id} (the policy's answer: ${decision.effect})`;
        }
      } finally {
        await opened.decider.close().catch(() => undefined);
      }
    }
  } catch {
    // The bypass exists for when agentguard is broken: failing to record it must not block the call.
  }
  const neutral = adapter.answerNeutral(hook);
  return { ...neutral, stderr: `${neutral.stderr}agentguard: ${BYPASS_ENV}=1 is set, so ${hook.tool} went through without a decision; ${recorded}. Unset it to be protected again.\n` };
}
