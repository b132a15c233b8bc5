import type { McpTool } from '../hooks.js';

export interface ListServerOptions {
  command: string;
  args: readonly string[];
  /** Per request (initialize, each page of tools/list). */
  timeoutMs: number;
}

/**
 * Starts an MCP server over stdio as a client would (the MCP SDK's client), lists every page of its tools and stops
 * it. The server's stderr goes to this process's stderr.
 */
export async function listServerTools(options: ListServerOptions): Promise<McpTool[]> {
  const [{ Client }, { StdioClientTransport }] = await Promise.all([
    import('@modelcontextprotocol/sdk/client/index.js'),
    import('@modelcontextprotocol/sdk/client/stdio.js'),
  ]);
  const env = Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => typeof e[1] === 'string'));
  const transport = new StdioClientTransport({ command: options.command, args: [...options.args], env, stderr: 'inherit' });
  const client = new Client({ name: 'agentguard-mcp-pin', version: '1.0.0' });
  try {
    await client.connect(transport, { timeout: options.timeoutMs });
    const tools: McpTool[] = [];
    let cursor: string | undefined;
    do {
      const page = await client.listTools(cursor === undefined ? {} : { cursor }, { timeout: options.timeoutMs });
      tools.push(...(page.tools as McpTool[]));
      cursor = page.nextCursor;
    } while (cursor !== undefined);
    return tools;
  } finally {
    await client.close();
  }
}
