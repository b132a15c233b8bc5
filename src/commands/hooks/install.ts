import { Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import { agentArg, chosenAgents, hookEnvironment, mapHooksErrors, scopeFlags } from '../../cli/hooks-install.js';
import type { HooksReport } from '../../hooks/install/install.js';

/** `--json` output: per hook file, what was done per event, the diff and the backup. */
export type HooksInstallResult = HooksReport;

export default class HooksInstall extends BaseCommand {
  static summary = 'Make a coding agent run `agentguard hook` before and after every tool call.';
  static description = `Adds agentguard's hook to the agent's own hook settings for its pre-tool and post-tool events (Claude Code and Codex: PreToolUse/PostToolUse; Gemini CLI: BeforeTool/AfterTool; Copilot CLI: preToolUse/postToolUse; Cursor: before/after shell, MCP and file-read events; Windsurf: its pre_/post_ events), keeping every other setting, comment and hook. The hook runs \`"<node>" "<agentguard>/bin/agentguard-hook.js" <agent>\` (both by absolute path). --scope user (default) changes the file in your home folder, --scope project the one in the current folder. Shows the change as a unified diff; --dry-run writes nothing. The original is kept beside the file (\`<file>.agentguard-hooks-backup\`) and files are replaced through a temp file and a rename. Running it again changes nothing. A file that does not parse is refused and nothing is written. Undo with \`agentguard hooks uninstall\`.`;
  static examples = [
    { description: 'See what would change for Claude Code', command: '<%= config.bin %> <%= command.id %> claude-code --dry-run' },
    { description: 'Every agent set up on this machine', command: '<%= config.bin %> <%= command.id %> --all' },
    { description: 'Cursor, for everyone working in this project', command: '<%= config.bin %> <%= command.id %> cursor --scope project' },
  ];

  static args = { agent: agentArg };
  static flags = {
    all: Flags.boolean({ description: 'Every coding agent set up on this machine (its user folder exists).', default: false }),
    ...scopeFlags,
    'dry-run': Flags.boolean({ description: 'Show the diff and write nothing.', default: false }),
  };

  async run(): Promise<HooksInstallResult> {
    const { args, flags } = await this.parse(HooksInstall);
    const env = hookEnvironment(flags.home);
    const agents = await chosenAgents(args.agent, flags.all, env, 'install');
    const { installHooks } = await import('../../hooks/install/install.js');
    const report = await mapHooksErrors(() => installHooks(env, { agents, scope: flags.scope, dryRun: flags['dry-run'] }));
    if (!this.jsonEnabled()) process.stdout.write((await import('../../hooks/install/render.js')).renderHooksReport(report, 'install'));
    const { existsSync } = await import('node:fs');
    const { join } = await import('node:path');
    if (flags.scope === 'user' && !existsSync(join(env.home, 'agentguard.config.json')) && !process.env.AGENTGUARD_PROJECT) {
      this.note(`Note: these hooks run in every project. A folder without its own agentguard.config.json (above it) uses the one in ${env.home}, and there is none: tool calls there are blocked until you run \`agentguard init --template coding-agent\` in ${env.home} (or in each project).`);
    }
    return report;
  }
}
