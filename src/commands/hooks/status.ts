import { Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import { agentArg, hookEnvironment } from '../../cli/hooks-install.js';
import { CODING_AGENT_IDS, type CodingAgentId } from '../../hooks/agent-ids.js';
import type { DaemonStatus } from '../../hooks/daemon/protocol.js';
import type { HookStatus } from '../../hooks/install/install.js';

/** `--json` output: per agent and scope, its hook file and whether it runs agentguard's hook for every event; the hook decision daemons running. */
export interface HooksStatusResult {
  hooks: HookStatus[];
  daemons: DaemonStatus[];
}

export default class HooksStatusCommand extends BaseCommand {
  static summary = 'Show, per coding agent, whether its hooks run agentguard (user and project settings).';
  static description = `Reads each agent's hook file in your home folder and in the current folder. An agent is secured when every one of its pre- and post-tool events runs this installation's \`agentguard hook\`. A file that cannot be read is reported as such, never as secured or as not installed. Exit code 1 when a file cannot be read. Also lists the hook decision daemons running for you (project, pid, socket, start, decisions served): \`agentguard hooks stop-daemons\` stops them.`;
  static examples = [{ description: 'Every agent', command: '<%= config.bin %> <%= command.id %>' }];

  static args = { agent: agentArg };
  static flags = {
    home: Flags.string({ description: 'Home folder whose agent settings to read (default: yours).', hidden: true }),
  };

  async run(): Promise<HooksStatusResult> {
    const { args, flags } = await this.parse(HooksStatusCommand);
    const env = hookEnvironment(flags.home);
    const agents: CodingAgentId[] = args.agent !== undefined ? [args.agent as CodingAgentId] : [...CODING_AGENT_IDS];
    const { hooksStatus } = await import('../../hooks/install/install.js');
    const hooks = await hooksStatus(env, agents, ['user', 'project']);
    if (hooks.some((h) => h.state === 'unreadable')) process.exitCode = 1;
    const { listDaemons } = await import('../../hooks/daemon/status.js');
    const daemons = await listDaemons(process.env);
    if (!this.jsonEnabled()) {
      const [{ renderHooksStatus }, { renderDaemons }] = await Promise.all([import('../../hooks/install/render.js'), import('../../hooks/daemon/render.js')]);
      process.stdout.write(`${renderHooksStatus(hooks)}\n${renderDaemons(daemons)}`);
    }
    return { hooks, daemons };
  }
}
