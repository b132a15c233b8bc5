import { Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import type { InstallReport } from '../../mcp/install/install.js';
import { clientArg, homeFlag, runInstallCommand, serverFlags } from '../../cli/mcp-install.js';

/** `--json` output: per config file, the servers chosen, what was done, the diff and how the file was put back. */
export type McpUninstallResult = InstallReport;

export default class McpUninstall extends BaseCommand {
  static summary = 'Undo `agentguard mcp install`: the client\'s servers run directly again.';
  static description = `When the config was not edited since \`agentguard mcp install\` wrote it, and every wrapped server is chosen, the original file is put back byte for byte from \`<config>.agentguard-backup\` and the backup is removed. Otherwise (edited since, no backup, or only some servers chosen) just the chosen wrapped entries are unwrapped in place, keeping comments, layout and your edits, and the output says so. --dry-run shows the diff and writes nothing.`;
  static examples = [
    { description: 'Put the Claude Desktop config back as it was', command: '<%= config.bin %> <%= command.id %> claude-desktop --all' },
    { description: 'Unwrap one VS Code server', command: '<%= config.bin %> <%= command.id %> vscode --server github' },
  ];

  static args = { client: clientArg };
  static flags = {
    ...serverFlags,
    'dry-run': Flags.boolean({ description: 'Show the diff and write nothing.', default: false }),
    ...homeFlag,
  };

  async run(): Promise<McpUninstallResult> {
    const { args, flags } = await this.parse(McpUninstall);
    const report = await runInstallCommand('uninstall', args.client, flags);
    if (!this.jsonEnabled()) process.stdout.write((await import('../../mcp/install/render.js')).renderInstallReport(report, 'uninstall'));
    return report;
  }
}
