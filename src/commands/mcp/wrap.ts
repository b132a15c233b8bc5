import { basename } from 'node:path';
import { Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import { AgentGuardError } from '../../core/errors.js';

export default class McpWrap extends BaseCommand {
  static summary = 'Run an MCP server over stdio behind agentguard: every tool call and tool result decided by policy.';
  static description = `Give your MCP client this command instead of the server's. It starts the server (the command after --) as a child, passes
JSON-RPC both ways (MCP stdio transport, specification 2025-11-25), and decides every tools/call as the action
{ kind: "mcp", name: "<server>.<tool>", input: <arguments> } and every tool result as { kind: "mcp_output",
input: { content: [<texts>] } }. Denied calls never reach the server: the client gets a tool error with the reason.
Tool descriptions are pinned and checked (see "agentguard mcp pins"). If the policy cannot be loaded, the server still
starts and every tool call is denied with the problem named. It exits with the server's exit code. Nothing but MCP messages is written to stdout.`;

  static strict = false;
  static enableJsonFlag = false;

  static examples = [
    { description: 'Wrap a filesystem server with the project policy', command: '<%= config.bin %> <%= command.id %> --name files -- npx -y @modelcontextprotocol/server-filesystem /srv/docs' },
    { description: 'Decide through a running sidecar', command: 'AGENTGUARD_TOKEN=… <%= config.bin %> <%= command.id %> --name github --sidecar http://127.0.0.1:7777 -- node github-server.js' },
  ];

  static flags = {
    name: Flags.string({ description: 'The server name in action names (<name>.<tool>). Default: the command\'s file name.' }),
    policy: Flags.string({ char: 'p', description: 'Policy file (local mode; default: the policy in agentguard.config.json, else agentguard/policy.yaml).', exclusive: ['sidecar'] }),
    sidecar: Flags.string({ description: 'Decide through the sidecar at this URL instead of in this process.', env: 'AGENTGUARD_SIDECAR_URL' }),
    token: Flags.string({ description: 'The sidecar token (prefer the AGENTGUARD_TOKEN environment variable: arguments are visible to other processes).', env: 'AGENTGUARD_TOKEN' }),
    'agent-id': Flags.string({ description: 'Sidecar mode: the agent id put on actions (an agent token fills in its own).' }),
    project: Flags.string({ description: 'Folder whose agentguard.config.json (policy, data folder) to use. Default: the working folder, which MCP clients choose themselves (Claude Desktop starts servers in /), so configs written by `agentguard mcp install` name it.', helpValue: '<dir>' }),
    'approval-wait': Flags.integer({ description: 'Milliseconds a call the policy sends for approval waits for a person\'s answer; 0 denies it at once, naming the approval to approve before calling again.', min: 0, default: 0 }),
  };

  async run(): Promise<void> {
    const { argv, flags } = await this.parse(McpWrap);
    const [command, ...args] = argv as string[];
    if (!command) {
      throw new AgentGuardError('USAGE', 'no server command given', { actions: ['Put the server command after --, e.g. `agentguard mcp wrap --name files -- node server.js`.'] });
    }
    if (flags.sidecar !== undefined && !flags.token) {
      throw new AgentGuardError('USAGE', '--sidecar needs a token', { actions: ['Set AGENTGUARD_TOKEN to a token from `agentguard token create` (or pass --token).'] });
    }
    const server = flags.name ?? basename(command).replace(/\.[cm]?[jt]s$/, '');
    const log = (message: string): void => void process.stderr.write(`${message}\n`);
    const [{ openDecider }, { openGuard }, { runStdioGateway }] = await Promise.all([import('../../mcp/open-decider.js'), import('../../mcp/open-guard.js'), import('../../mcp/gateway.js')]);
    const { decider, project, recorder } = await openDecider({
      ...(flags.policy !== undefined ? { policy: flags.policy } : {}),
      ...(flags.sidecar !== undefined ? { sidecar: { url: flags.sidecar, token: flags.token! } } : {}),
      ...(flags['agent-id'] !== undefined ? { agentId: flags['agent-id'] } : {}),
      ...(flags.project !== undefined ? { projectDir: flags.project } : {}),
      log,
    });
    const pins = await openGuard(project, recorder, log);
    try {
      process.exitCode = await runStdioGateway({
        server,
        command,
        args,
        decider,
        approvalWaitMs: flags['approval-wait'],
        guard: pins.guard,
        input: process.stdin,
        output: process.stdout,
        log,
      });
    } finally {
      await pins.close();
      await decider.close();
      process.stdin.destroy();
    }
  }
}
