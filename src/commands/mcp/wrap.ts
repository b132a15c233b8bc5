import { basename } from 'node:path';
import { Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import { gatewayFlags, openGatewayParts } from '../../cli/mcp-gateway.js';
import { AgentGuardError } from '../../core/errors.js';
import { clientSessionId } from '../../mcp/client-session.js';

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
    ...gatewayFlags,
    session: Flags.string({
      description: 'The session id decided actions carry (context.session.id), which session taint follows. Default: one shared by every server the same MCP client process started, so content read through one server taints calls through the others.',
      helpValue: '<id>',
    }),
  };

  async run(): Promise<void> {
    const { argv, flags } = await this.parse(McpWrap);
    const [command, ...args] = argv as string[];
    if (!command) {
      throw new AgentGuardError('USAGE', 'no server command given', { actions: ['Put the server command after --, e.g. `agentguard mcp wrap --name files -- node server.js`.'] });
    }
    const server = flags.name ?? basename(command).replace(/\.[cm]?[jt]s$/, '');
    const [{ runStdioGateway }, parts] = await Promise.all([import('../../mcp/gateway.js'), openGatewayParts(flags)]);
    const { decider, guard, log } = parts;
    const sessionId = flags.session ?? clientSessionId();
    try {
      process.exitCode = await runStdioGateway({
        server,
        command,
        args,
        decider,
        approvalWaitMs: flags['approval-wait'],
        guard,
        ...(sessionId !== undefined ? { sessionId } : {}),
        input: process.stdin,
        output: process.stdout,
        log,
      });
    } finally {
      await parts.close();
      process.stdin.destroy();
    }
  }
}
