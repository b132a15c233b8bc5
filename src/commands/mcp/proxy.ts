import { Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import { gatewayFlags, openGatewayParts } from '../../cli/mcp-gateway.js';
import { AgentGuardError } from '../../core/errors.js';
import { isLoopbackHost } from '../../sidecar/pid-file.js';

const DEFAULT_PORT = 7780;

export default class McpProxy extends BaseCommand {
  static summary = 'Run a Streamable HTTP MCP server behind agentguard: every tool call and tool result decided by policy.';
  static description = `Point your MCP client at the URL this prints instead of the server's. It forwards every request to --upstream
(MCP Streamable HTTP transport, specification 2025-11-25) with its headers — Authorization, Mcp-Session-Id,
MCP-Protocol-Version — which are never logged, and decides every tools/call as the action { kind: "mcp",
name: "<server>.<tool>", input: <arguments>, context: { mcp: { server, transport: "streamable-http" },
session: { id: <Mcp-Session-Id> } } } before it is forwarded. Tool results (in JSON bodies and in SSE streams, event
by event) go through the output rules as { kind: "mcp_output" } before the client sees them. Denied calls never reach
the server: the client gets a tool error with the reason. Tool descriptions are pinned and checked (see "agentguard
mcp pins"). If the policy cannot be loaded, every tool call is denied with the problem named; a server that cannot be
reached is a JSON-RPC error. It listens on loopback and answers only to loopback Host names. Runs until Ctrl-C or SIGTERM.`;

  static enableJsonFlag = false;

  static examples = [
    { description: 'Guard a remote server; clients connect to http://127.0.0.1:7780/mcp', command: '<%= config.bin %> <%= command.id %> --name github --upstream https://api.githubcopilot.com/mcp/' },
    { description: 'Decide through a running sidecar, on another port', command: 'AGENTGUARD_TOKEN=… <%= config.bin %> <%= command.id %> --upstream http://127.0.0.1:3000/mcp --port 7781 --sidecar http://127.0.0.1:7777' },
  ];

  static flags = {
    upstream: Flags.string({ description: 'The MCP server\'s Streamable HTTP endpoint (http:// or https://).', required: true, helpValue: '<url>' }),
    name: Flags.string({ description: 'The server name in action names (<name>.<tool>). Default: the upstream\'s host name.' }),
    port: Flags.integer({ description: `Port to listen on (default ${DEFAULT_PORT}; 0 takes a free one).`, min: 0, max: 65535, default: DEFAULT_PORT }),
    host: Flags.string({ description: 'Address to listen on (default 127.0.0.1). Other than loopback needs --allow-remote.', default: '127.0.0.1', helpValue: '<address>' }),
    'allow-remote': Flags.boolean({ description: 'Allow a --host other machines can reach (anyone who reaches it can use the upstream through it).' }),
    ...gatewayFlags,
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(McpProxy);
    let upstream: URL;
    try {
      upstream = new URL(flags.upstream);
    } catch {
      throw new AgentGuardError('USAGE', '--upstream is not a URL', { actions: ['Give the MCP server\'s endpoint, e.g. --upstream https://mcp.example.com/mcp.'] });
    }
    if (upstream.protocol !== 'http:' && upstream.protocol !== 'https:') {
      throw new AgentGuardError('USAGE', `--upstream must be an http:// or https:// URL, not ${upstream.protocol}`, { actions: ['Give the MCP server\'s Streamable HTTP endpoint; for a stdio server use `agentguard mcp wrap`.'] });
    }
    if (upstream.username !== '' || upstream.password !== '') {
      throw new AgentGuardError('USAGE', '--upstream must not hold credentials (user:password@)', { actions: ['Let the MCP client send them (an Authorization header passes through the proxy), so they stay out of process listings.'] });
    }
    if (!isLoopbackHost(flags.host) && !flags['allow-remote']) {
      throw new AgentGuardError('REMOTE_BIND', `--host ${flags.host} would expose the MCP proxy to other machines`, {
        actions: ['Keep the default 127.0.0.1, or add --allow-remote if other machines must reach it (and protect the network path).'],
      });
    }
    const server = flags.name ?? upstream.hostname;
    const [{ startHttpGateway }, parts] = await Promise.all([import('../../mcp/http/gateway.js'), openGatewayParts(flags)]);
    const { decider, guard, log } = parts;
    try {
      const gateway = await startHttpGateway({ server, upstream, host: flags.host, port: flags.port, decider, approvalWaitMs: flags['approval-wait'], guard, log }).catch((error: unknown) => {
        const inUse = (error as NodeJS.ErrnoException).code === 'EADDRINUSE';
        throw new AgentGuardError(inUse ? 'PORT_IN_USE' : 'LISTEN_FAILED', inUse ? `port ${flags.port} on ${flags.host} is already in use` : `cannot listen on ${flags.host}:${flags.port}: ${(error as Error)?.message ?? String(error)}`, {
          actions: ['Pick another --port (0 takes a free one and prints it), or check --host (an address of this machine).'],
          cause: error,
        });
      });
      // stdout: the endpoint alone, for scripts; stderr: what it is.
      process.stdout.write(`${gateway.url}\n`);
      log(`agentguard mcp proxy: ${server} at ${gateway.url} → ${upstream.origin}${upstream.pathname} (Ctrl-C to stop)`);
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      await gateway.close();
    } finally {
      await parts.close();
    }
  }
}
