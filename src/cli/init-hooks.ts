/**
 * `agentguard init --template coding-agent` offers to install agentguard's hooks, in the project's own settings
 * files, for the coding agents set up on this machine: asked on a terminal, else only with --hooks.
 */
import { agentDisplayName } from '../hooks/agent-ids.js';
import type { HooksReport } from '../hooks/install/install.js';
import { hookEnvironment, mapHooksErrors } from './hooks-install.js';

export interface InitHooksOutcome {
  /** What was installed; absent when nothing was. */
  report?: HooksReport;
  /** Why nothing was installed, and how to do it later. */
  note?: string;
}

export async function offerHooks(dir: string, given: boolean | undefined, interactive: boolean, context?: { input?: NodeJS.ReadableStream; output?: NodeJS.WritableStream }): Promise<InitHooksOutcome> {
  const later = 'Later: `agentguard hooks install <agent> --scope project` here, or `agentguard scan --fix` for every agent of this machine.';
  if (given === false) return { note: `Hooks not installed (--no-hooks). ${later}` };
  const env = hookEnvironment(undefined, dir);
  const { agentsSetUp, installHooks } = await import('../hooks/install/install.js');
  const agents = agentsSetUp(env);
  if (agents.length === 0) return { note: `No coding agent is set up on this machine (Claude Code, Cursor, Gemini CLI, Copilot CLI, Windsurf, Codex), so no hooks were installed. ${later}` };
  const names = agents.map(agentDisplayName).join(', ');
  if (given === undefined && !interactive) return { note: `Hooks not installed: pass --hooks to install them for ${names} in this project. ${later}` };
  if (given === undefined) {
    const { confirm } = await import('@inquirer/prompts');
    const yes = await confirm({ message: `Install agentguard's hooks for ${names} in this project, so their tool calls are decided by this policy?`, default: true }, context);
    if (!yes) return { note: `Hooks not installed. ${later}` };
  }
  return { report: await mapHooksErrors(() => installHooks(env, { agents, scope: 'project', dryRun: false })) };
}
