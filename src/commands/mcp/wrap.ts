import { basename } from 'node:path';
import { Flags, type Interfaces } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import { gatewayFlags, openGatewayParts } from '../../cli/mcp-gateway.js';
import { AgentGuardError } from '../../core/errors.js';
import { clientSessionId } from '../../mcp/client-session.js';
import { UPSTREAM_HEADERS_ENV, upstreamHeaders, upstreamUrl } from '../../cli/mcp-upstream.js';

export default class McpWrap extends BaseCommand {
  static summary = 'Run an MCP server over stdio behind agentguard: every tool call and tool result decided by policy.';
  static description = `Give your MCP client this command instead of the server's. It starts the server (the command after --) as a child, passes
JSON-RPC both ways (MCP stdio transport, specification 2025-11-25), and decides every tools/call as the action
{ kind: "mcp", name: "<server>.<tool>", input: <arguments> } and every tool result as { kind: "mcp_output",
input: { content: [<texts>] } }. Denied calls never reach the server: the client gets a tool error with the reason.
Tool descriptions are pinned and checked (see "agentguard mcp pins"). If the policy cannot be loaded, the server still
starts and every tool call is denied with the problem named. It exits with the server's exit code. Nothing but MCP messages is written to stdout.

With --upstream <url> instead of a command, the server is a Streamable HTTP MCP server the gateway connects to (the MCP
SDK's client transport: session ids, SSE, resumption), under the same rules; the client still launches the gateway
over stdio. Headers for the upstream (Authorization…) come from the environment only, never from arguments (other
processes can read those): ${UPSTREAM_HEADERS_ENV} as a JSON object, or --header-env <Header>=<ENV_VAR>. They are
never logged. An upstream that cannot be reached answers each request with a JSON-RPC error; the gateway exits 0 when
the client closes its input.`;

  static strict = false;
  static enableJsonFlag = false;

  static examples = [
    { description: 'Wrap a filesystem server with the project policy', command: '<%= config.bin %> <%= command.id %> --name files -- npx -y @modelcontextprotocol/server-filesystem /srv/docs' },
    { description: 'Wrap a remote (Streamable HTTP) server; its token comes from the environment', command: 'GITHUB_MCP_AUTH="Bearer …" <%= config.bin %> <%= command.id %> --name github --upstream https://api.githubcopilot.com/mcp/ --header-env Authorization=GITHUB_MCP_AUTH' },
    { description: 'Decide through a running sidecar', command: 'AGENTGUARD_TOKEN=… <%= config.bin %> <%= command.id %> --name github --sidecar http://127.0.0.1:7777 -- node github-server.js' },
  ];

  static flags = {
    name: Flags.string({ description: 'The server name in action names (<name>.<tool>). Default: the command\'s file name (the upstream\'s host name with --upstream).' }),
    upstream: Flags.string({ description: 'Connect to this Streamable HTTP MCP server instead of starting a command.', helpValue: '<url>' }),
    'header-env': Flags.string({
      description: `With --upstream: send the header <Header> with the value of the environment variable <ENV_VAR> (repeat for more). ${UPSTREAM_HEADERS_ENV}, a JSON object, gives headers too.`,
      multiple: true,
      helpValue: '<Header>=<ENV_VAR>',
    }),
    ...gatewayFlags,
    session: Flags.string({
      description: 'The session id decided actions carry (context.session.id), which session taint follows. Default: one shared by every server the same MCP client process started, so content read through one server taints calls through the others.',
      helpValue: '<id>',
    }),
  };

  async run(): Promise<void> {
    const { argv, flags } = await this.parse(McpWrap);
    const [command, ...args] = argv as string[];
    if (flags.upstream !== undefined) {
      if (command) throw new AgentGuardError('USAGE', 'both --upstream and a server command given', { actions: ['Give either --upstream <url> (a Streamable HTTP server) or a command after -- (a stdio server).'] });
      await this.runUpstream(flags.upstream, flags);
      return;
    }
    if (flags['header-env'] !== undefined) throw new AgentGuardError('USAGE', '--header-env needs --upstream', { actions: ['Headers are sent to a Streamable HTTP server given with --upstream <url>.'] });
    if (!command) {
      throw new AgentGuardError('USAGE', 'no server command given', { actions: ['Put the server command after --, e.g. `agentguard mcp wrap --name files -- node server.js`, or give --upstream <url> for a Streamable HTTP server.'] });
    }
    await this.serve(flags.name ?? basename(command).replace(/\.[cm]?[jt]s$/, ''), { command, args }, flags);
  }

  private async runUpstream(upstream: string, flags: Interfaces.InferredFlags<typeof McpWrap.flags>): Promise<void> {
    // Checked before anything opens: a bad URL or header setting is a usage error, not a running gateway that denies.
    const url = upstreamUrl(upstream);
    const headers = upstreamHeaders(flags['header-env'] ?? [], process.env);
    await this.serve(flags.name ?? url.hostname, { upstream: { url, headers } }, flags);
  }

  /** Runs the stdio gateway for the client on this process's stdin/stdout, with the server side given. */
  private async serve(server: string, side: { command: string; args: string[] } | { upstream: { url: URL; headers: Record<string, string> } }, flags: Interfaces.InferredFlags<typeof McpWrap.flags>): Promise<void> {
    const [{ runStdioGateway }, parts] = await Promise.all([import('../../mcp/gateway.js'), openGatewayParts(flags)]);
    const { decider, guard, log } = parts;
    const sessionId = flags.session ?? clientSessionId();
    try {
      process.exitCode = await runStdioGateway({
        server,
        ...side,
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
