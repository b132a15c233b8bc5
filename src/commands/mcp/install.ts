import { Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import type { InstallReport } from '../../mcp/install/install.js';
import { clientArg, homeFlag, runInstallCommand, serverFlags } from '../../cli/mcp-install.js';

/** `--json` output: per config file, the servers chosen, what was done, the diff and the backup. */
export type McpInstallResult = InstallReport;

export default class McpInstall extends BaseCommand {
  static summary = 'Rewrite an MCP client\'s config so its servers (stdio and Streamable HTTP) run through `agentguard mcp wrap`.';
  static description = `Reads the client's MCP config files (the places \`agentguard scan\` reads: the home folder and the current project folder) and sets each chosen stdio server's command to \`<node> <agentguard>/bin/run.js mcp wrap --name <server> --project <this project> [--policy <file>] -- <its command> <its args…>\` (the project found from the current folder: its policy, config and data folder, whatever folder the client starts the server in), keeping comments and layout. Shows the change as a unified diff; --dry-run writes nothing. The original file is kept beside it (\`<config>.agentguard-backup\`, with its SHA-256) and files are replaced through a temp file and a rename. A server given by URL (Streamable HTTP: \`url\`, \`serverUrl\`, \`httpUrl\`) becomes a stdio entry running \`mcp wrap --name <server> --project <this project> --upstream <url>\`, its \`headers\` moved as written (the client's \`\${VAR}\` references kept) into the entry's env as AGENTGUARD_MCP_UPSTREAM_HEADERS; servers on the old SSE transport and servers the client signs in to itself (oauth) are skipped with the reason. Servers already wrapped are left alone. A config that does not parse is refused and nothing is written. Undo with \`agentguard mcp uninstall\`.`;
  static examples = [
    { description: 'See what would change for every Claude Desktop server', command: '<%= config.bin %> <%= command.id %> claude-desktop --all --dry-run' },
    { description: 'Wrap one VS Code server with a policy', command: '<%= config.bin %> <%= command.id %> vscode --server github --policy agentguard/policy.yaml' },
  ];

  static args = { client: clientArg };
  static flags = {
    ...serverFlags,
    'dry-run': Flags.boolean({ description: 'Show the diff and write nothing.', default: false }),
    policy: Flags.string({ char: 'p', description: 'Policy file the wrapped servers are decided by (written as an absolute path; default: the policy of the agentguard project here).' }),
    ...homeFlag,
  };

  async run(): Promise<McpInstallResult> {
    const { args, flags } = await this.parse(McpInstall);
    const report = await runInstallCommand('install', args.client, flags);
    if (!this.jsonEnabled()) process.stdout.write((await import('../../mcp/install/render.js')).renderInstallReport(report, 'install'));
    return report;
  }
}
