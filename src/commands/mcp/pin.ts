import { basename } from 'node:path';
import { Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import { dataDirFlag } from '../../cli/data-dir.js';
import { paint } from '../../cli/style.js';
import { renderTable } from '../../cli/table.js';
import { AgentGuardError } from '../../core/errors.js';
import type { PinState } from '../../mcp/pins/verdict.js';

/** `--json` output: every tool the server listed, where it stands now, and what was found. */
export interface McpPinResult {
  server: string;
  tools: Array<{ tool: string; state: PinState; reason: string | null }>;
  findings: Array<{ tool: string; type: string; message: string }>;
}

export default class McpPin extends BaseCommand {
  static summary = 'Pin the tools of an MCP server now: start it, list its tools and check them as the gateway does.';
  static description = `Starts the server, lists its tools and runs them through the same check as \`agentguard mcp wrap\`: at the server's first listing every tool the description policy does not flag is pinned; later, changed, new and flagged tools are reported. Run it right after installing a server you trust, before any client connects. Exit codes: 0 every tool is pinned as listed; 1 some tool waits for review (\`agentguard mcp pins approve\`); 2 the server could not be listed.`;
  static examples = [{ description: 'Pin the filesystem server', command: '<%= config.bin %> <%= command.id %> --name files -- npx -y @modelcontextprotocol/server-filesystem .' }];
  static strict = false;

  static flags = {
    name: Flags.string({ description: 'The server\'s name, as `agentguard mcp wrap --name` gives it (default: the command\'s file name).', helpValue: '<server>' }),
    timeout: Flags.integer({ description: 'Seconds to wait for each answer of the server.', default: 30, min: 1 }),
    ...dataDirFlag,
  };

  async run(): Promise<McpPinResult> {
    const { argv, flags } = await this.parse(McpPin);
    const [command, ...args] = argv as string[];
    if (!command) {
      throw new AgentGuardError('USAGE', 'no server command given', { actions: ['Put the server command after --, e.g. `agentguard mcp pin --name files -- node server.js`.'] });
    }
    const server = flags.name ?? basename(command).replace(/\.[cm]?[jt]s$/, '');
    const [{ listServerTools }, { loadProjectConfig }, { openProjectPinGuard }, { verdictOf }] = await Promise.all([
      import('../../mcp/pins/list-server.js'),
      import('../../core/config/project-config.js'),
      import('../../mcp/pins/open.js'),
      import('../../mcp/pins/verdict.js'),
    ]);
    let tools;
    try {
      tools = await listServerTools({ command, args, timeoutMs: flags.timeout * 1000 });
    } catch (error) {
      throw new AgentGuardError('MCP_PIN_SERVER_FAILED', `could not list the tools of ${server} (${command}): ${(error as Error)?.message ?? String(error)}`, {
        cause: error,
      });
    }
    const project = await loadProjectConfig();
    const opened = await openProjectPinGuard(project, flags['data-dir'] === undefined ? {} : { dataDir: flags['data-dir'] });
    let result: McpPinResult;
    try {
      const checked = await opened.guard.checkToolList(server, tools, { id: `pin_${Date.now()}`, transport: 'stdio' });
      const listed = new Set(tools.map((t) => t.name));
      const pins = (await opened.pins.list({ server })).filter((p) => listed.has(p.tool));
      result = {
        server,
        tools: pins.map((p) => ({ tool: p.tool, ...verdictOf(p) })),
        findings: checked.findings.map((f) => ({ tool: f.tool, type: f.type, message: f.message })),
      };
    } finally {
      await opened.close();
    }
    const waiting = result.tools.filter((t) => t.state !== 'pinned');
    if (!this.jsonEnabled()) {
      const heading = ['TOOL', 'STATE', 'WHY'];
      const rows = result.tools.map((t) => [t.tool, t.state === 'pinned' ? paint.green(t.state) : paint.red(t.state), t.reason ?? '-']);
      process.stdout.write(rows.length === 0 ? `${server} lists no tools.\n` : renderTable(heading, rows));
      for (const f of result.findings.filter((f) => f.type === 'shadows')) this.note(f.message);
      if (waiting.length > 0) this.note(`${waiting.length} tool(s) of ${server} wait for review; approve one with \`agentguard mcp pins approve ${server}.<tool>\`.`);
    }
    if (waiting.length > 0) process.exitCode = 1;
    return result;
  }
}
