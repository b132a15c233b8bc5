import { AgentGuardError } from '../../core/errors.js';
import { isPlainObject } from '../../core/plain-object.js';
import { AgentGuard, type AgentGuardOptions } from '../../sdk/agent-guard.js';
import type { ApprovalWaitOptions } from '../../sdk/approvals.js';

/** The runtime LangChain gives a middleware hook (the fields the middleware reads). */
export interface RuntimeLike {
  configurable?: { thread_id?: unknown; [key: string]: unknown };
  interrupt?: (value: unknown) => unknown;
}

export interface AgentGuardMiddlewareOptions {
  /** The guard every model call and tool call goes through: an AgentGuard, or the options to create one (local or sidecar mode). */
  guard: AgentGuard | AgentGuardOptions;
  /** Put on every action, e.g. `{ project, user }`: rules can match it, budgets use it. `framework: "langchain"` is always added. */
  context?: Record<string, unknown>;
  /**
   * The agentguard session of a run (session taint, `context.session.id`): by default the LangGraph `thread_id`
   * (`configurable.thread_id`), so a thread that read an injection is tainted for its later calls. `false`: no session.
   */
  session?: false | ((runtime: RuntimeLike) => string | undefined);
  /**
   * What a tool call that needs approval does. `interrupt` (the default when the agent has a checkpointer): the run
   * pauses with a LangGraph interrupt carrying the approval, as LangChain's human-in-the-loop middleware does; resume
   * it with `{ decisions: [{ type: "approve" }] }` once the approval was given in agentguard, or `reject`. `wait`
   * (the default without a checkpointer): the tool call waits for a person's answer in agentguard, at most
   * `timeoutMs` (default 15 minutes); unanswered or denied, the model gets a refusal.
   */
  approval?: { mode?: 'interrupt' | 'wait' } & ApprovalWaitOptions;
  /**
   * Decide each tool result as `kind: "tool_output"` before the model reads it (default true): a transform redacts
   * it, a deny withholds it, an injection found in it taints the session. The policy must allow `tool_output`.
   */
  checkToolResults?: boolean;
  /** Streamed answers hold back at least this many characters (the policy's longest guardrail span is the floor). */
  holdBack?: number;
}

export interface MiddlewareSettings {
  guard: AgentGuard;
  context: Record<string, unknown>;
  session: (runtime: RuntimeLike | undefined) => string | undefined;
  approval: { mode?: 'interrupt' | 'wait'; wait: ApprovalWaitOptions };
  checkToolResults: boolean;
  holdBack: number;
}

function invalid(message: string, fix: string): AgentGuardError {
  return new AgentGuardError('GUARD_OPTIONS_INVALID', `agentguardMiddleware: ${message}`, { actions: [fix] });
}

const threadId = (runtime: RuntimeLike | undefined): string | undefined => {
  const id = runtime?.configurable?.thread_id;
  return typeof id === 'string' && id !== '' ? id : typeof id === 'number' ? String(id) : undefined;
};

/** Checks the options (bad ones throw at once, not on the agent's first call). */
export function middlewareSettings(options: AgentGuardMiddlewareOptions | undefined): MiddlewareSettings {
  if (!isPlainObject(options) || !options.guard) {
    throw new AgentGuardError('GUARD_REQUIRED', 'agentguardMiddleware needs a `guard`: an AgentGuard or its options', {
      actions: ["agentguardMiddleware({ guard: new AgentGuard({ policy: 'agentguard/policy.yaml', agentId: 'my-agent' }) }) or { guard: { sidecar: { url, token } } }"],
    });
  }
  const { guard, context, session, approval, checkToolResults, holdBack } = options as AgentGuardMiddlewareOptions;
  if (context !== undefined && !isPlainObject(context)) throw invalid('context must be an object', 'Give e.g. { project: "shop", user: "u-9" }.');
  if (session !== undefined && session !== false && typeof session !== 'function') throw invalid('session must be false or a function of the runtime', 'Leave it out to use the thread_id, or give (runtime) => id.');
  if (approval !== undefined && !isPlainObject(approval)) throw invalid('approval must be an object', 'Give e.g. { mode: "wait", timeoutMs: 60000 }.');
  if (approval?.mode !== undefined && approval.mode !== 'interrupt' && approval.mode !== 'wait') throw invalid(`approval.mode is ${JSON.stringify(approval.mode)}`, 'Use "interrupt" or "wait".');
  for (const key of ['timeoutMs', 'pollMs'] as const) {
    const value = approval?.[key];
    if (value !== undefined && !(typeof value === 'number' && Number.isFinite(value) && value > 0)) throw invalid(`approval.${key} is ${JSON.stringify(value)}`, 'Give a number of milliseconds above 0.');
  }
  if (holdBack !== undefined && !(Number.isInteger(holdBack) && holdBack >= 0)) throw invalid(`holdBack is ${JSON.stringify(holdBack)}`, 'Give a whole number of characters, 0 or more.');
  if (checkToolResults !== undefined && typeof checkToolResults !== 'boolean') throw invalid('checkToolResults must be true or false', 'Leave it out (true) or set false.');
  const { mode, ...wait } = (approval ?? {}) as NonNullable<AgentGuardMiddlewareOptions['approval']>;
  return {
    guard: guard instanceof AgentGuard ? guard : new AgentGuard(guard),
    context: { ...(context ?? {}), framework: 'langchain' },
    session: session === false ? () => undefined : session ? (runtime) => (runtime ? session(runtime) : undefined) : threadId,
    approval: { ...(mode ? { mode } : {}), wait },
    checkToolResults: checkToolResults ?? true,
    holdBack: holdBack ?? 0,
  };
}

/** The context of one action: the middleware's, with the run's session when it has one. */
export function contextFor(settings: MiddlewareSettings, runtime: RuntimeLike | undefined): Record<string, unknown> {
  const id = settings.session(runtime);
  return id === undefined ? settings.context : { ...settings.context, session: { id } };
}
