import { Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import { agentArg, chosenAgents, hookEnvironment, mapHooksErrors, scopeFlags } from '../../cli/hooks-install.js';
import type { HooksReport } from '../../hooks/install/install.js';

/** `--json` output: per hook file, what was removed, the diff and how the file was put back. */
export type HooksUninstallResult = HooksReport;

export default class HooksUninstall extends BaseCommand {
  static summary = 'Undo `agentguard hooks install`: the agent no longer runs agentguard\'s hook.';
  static description = `When the file was not changed since \`agentguard hooks install\` wrote it, it is put back byte for byte from \`<file>.agentguard-hooks-backup\` (or removed, when install had created it) and the backup is removed. Otherwise only agentguard's hook entries are taken out, keeping your changes, and the output says so. --dry-run shows the diff and writes nothing.`;
  static examples = [
    { description: 'Put Claude Code\'s settings back as they were', command: '<%= config.bin %> <%= command.id %> claude-code' },
    { description: 'Every agent, project files', command: '<%= config.bin %> <%= command.id %> --all --scope project' },
  ];

  static args = { agent: agentArg };
  static flags = {
    all: Flags.boolean({ description: 'Every coding agent set up on this machine.', default: false }),
    ...scopeFlags,
    'dry-run': Flags.boolean({ description: 'Show the diff and write nothing.', default: false }),
  };

  async run(): Promise<HooksUninstallResult> {
    const { args, flags } = await this.parse(HooksUninstall);
    const env = hookEnvironment(flags.home);
    const agents = await chosenAgents(args.agent, flags.all, env, 'uninstall');
    const { uninstallHooks } = await import('../../hooks/install/install.js');
    const report = await mapHooksErrors(() => uninstallHooks(env, { agents, scope: flags.scope, dryRun: flags['dry-run'] }));
    if (!this.jsonEnabled()) process.stdout.write((await import('../../hooks/install/render.js')).renderHooksReport(report, 'uninstall'));
    return report;
  }
}
