/**
 * The environment variable that gives `mcp wrap --upstream` the headers for the upstream (a JSON object of header
 * names to values). Headers travel in the environment, never in arguments, which other processes can read; `mcp
 * install` moves a URL server's `headers` into it.
 */
export const UPSTREAM_HEADERS_ENV = 'AGENTGUARD_MCP_UPSTREAM_HEADERS';
