import { AgentGuardError } from '../../core/errors.js';
import { isPlainObject } from '../../core/plain-object.js';
import { AgentGuard } from '../../sdk/agent-guard.js';

/** The options every framework adapter takes. */
export interface AdapterOptions {
  /** The guard every decision goes through (local or sidecar mode). */
  guard: AgentGuard;
  /** Put on every action the adapter decides, e.g. `{ user: 'u-9', env: 'prod' }`: rules can match it, budgets use it. */
  context?: Record<string, unknown>;
  /**
   * The agent session (conversation, task) the actions belong to: they carry `context.session.id`, so a tool result
   * with an injection taints the session and later actions are decided with `context.session.tainted`.
   */
  session?: string;
}

/** The framework names that adapters put in `context.framework`. */
export type FrameworkName = 'ai-sdk' | 'openai-agents' | 'langchain';

/** Checks an adapter's options; returns the context every action it decides carries (naming the framework). */
export function adapterContext(options: AdapterOptions | undefined, framework: FrameworkName, entry: string): Record<string, unknown> {
  if (!isPlainObject(options) || !(options.guard instanceof AgentGuard)) {
    throw new AgentGuardError('GUARD_REQUIRED', `${entry} needs \`guard\`: an AgentGuard`, {
      actions: [`${entry}({ guard: new AgentGuard({ policy: 'agentguard/policy.yaml', agentId: 'my-agent' }) })`],
    });
  }
  if (options.context !== undefined && !isPlainObject(options.context)) {
    throw new AgentGuardError('GUARD_OPTIONS_INVALID', `${entry}: context must be an object`, { actions: ['Give e.g. { user: "u-9", env: "prod" }.'] });
  }
  if (options.session !== undefined && (typeof options.session !== 'string' || options.session === '')) {
    throw new AgentGuardError('GUARD_OPTIONS_INVALID', `${entry}: session must be a non-empty string`, { actions: ['Give the id of the conversation or task, e.g. session: "conversation-42".'] });
  }
  const given = options.context ?? {};
  const session = options.session !== undefined ? { session: { ...(isPlainObject(given.session) ? given.session : {}), id: options.session } } : {};
  return { ...given, ...session, framework };
}
