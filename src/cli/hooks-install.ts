/** What `agentguard hooks install|uninstall|status` and `scan --fix` share: the agent argument, scope, environment and error mapping. */
import { homedir } from 'node:os';
import { isAbsolute, resolve } from 'node:path';
import { Args, Flags } from '@oclif/core';
import { AgentGuardError } from '../core/errors.js';
import { CODING_AGENT_IDS, type CodingAgentId } from '../hooks/agent-ids.js';
import type { HookEnvironment, HookScope } from '../hooks/install/agents.js';
import type { HooksProblem } from '../hooks/install/install.js';

export const agentArg = Args.string({ description: 'The coding agent whose hooks to change.', required: false, options: [...CODING_AGENT_IDS] });

export const scopeFlags = {
  scope: Flags.option({ options: ['user', 'project'] as const, default: 'user' as const, description: 'user: the agent\'s settings in your home folder (every project); project: the settings in the current folder (for everyone working in it).' })(),
  home: Flags.string({ description: 'Home folder whose agent settings to change (default: yours).', hidden: true }),
};

const PROBLEM_CODES = { unreadable: { code: 'HOOKS_CONFIG_UNREADABLE' }, 'no-agent': { code: 'HOOKS_NO_AGENT' } } as const satisfies Record<HooksProblem, { code: string }>;

/** The home folder (the hidden --home, else yours), this folder as the project, and the agents' own folder overrides. */
export function hookEnvironment(home: string | undefined, project = process.cwd()): HookEnvironment {
  const real = home === undefined;
  const env = (name: string) => {
    const value = process.env[name];
    return real && value && isAbsolute(value) ? value : undefined;
  };
  const codexHome = env('CODEX_HOME');
  const copilotHome = env('COPILOT_HOME');
  return { home: home !== undefined ? resolve(home) : homedir(), project: resolve(project), ...(codexHome ? { codexHome } : {}), ...(copilotHome ? { copilotHome } : {}) };
}

/** The agents named: one by its argument, or with --all those set up on this machine. */
export async function chosenAgents(agent: string | undefined, all: boolean, env: HookEnvironment, verb: string): Promise<CodingAgentId[]> {
  if (agent !== undefined && all) throw new AgentGuardError('USAGE', 'name an agent or pass --all, not both', { actions: [`\`agentguard hooks ${verb} claude-code\` or \`agentguard hooks ${verb} --all\`.`] });
  if (agent !== undefined) return [agent as CodingAgentId];
  if (!all) throw new AgentGuardError('USAGE', 'no agent named', { actions: [`Name one of ${CODING_AGENT_IDS.join(', ')}, or pass --all for every agent set up on this machine.`] });
  const { agentsSetUp } = await import('../hooks/install/install.js');
  const found = agentsSetUp(env);
  if (found.length === 0) {
    throw new AgentGuardError('HOOKS_NO_AGENT', `no coding agent is set up under ${env.home} (looked for the folders of ${CODING_AGENT_IDS.join(', ')})`);
  }
  return found;
}

/** Runs `work`, turning the install's own problems into registered errors. */
export async function mapHooksErrors<T>(work: () => Promise<T>): Promise<T> {
  const { HooksInstallError } = await import('../hooks/install/install.js');
  try {
    return await work();
  } catch (error) {
    if (!(error instanceof HooksInstallError)) throw error;
    throw new AgentGuardError(PROBLEM_CODES[error.problem].code, error.message, { ...(error.hints.length > 0 ? { actions: error.hints } : {}), cause: error });
  }
}

export type { HookScope };
