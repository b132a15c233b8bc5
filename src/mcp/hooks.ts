/**
 * The seam between the MCP gateway's proxy (src/mcp/) and tool pinning (src/mcp/pins/, another part of issue 18).
 * The proxy calls a ToolListGuard, when one is given, on every `tools/list` result and before every `tools/call`;
 * without one it forwards tool lists unchanged and decides calls by policy alone.
 */

/** One tool as a `tools/list` result describes it (MCP specification 2025-06-18, `Tool`). Unknown fields are kept. */
export interface McpTool {
  name: string;
  title?: string;
  description?: string;
  inputSchema: Record<string, unknown>;
  outputSchema?: Record<string, unknown>;
  annotations?: Record<string, unknown>;
  [key: string]: unknown;
}

/** The client connection the proxy serves: one MCP session. */
export interface McpSessionInfo {
  /** Stable for the life of the client connection (the proxy makes one per `mcp wrap` process); tool pins use it. */
  id: string;
  /**
   * The session put on decided actions (`context.session.id`), which session taint follows; `id` when absent. `mcp wrap`
   * shares one among every server the same client process started (see clientSessionId).
   */
  taintId?: string;
  transport: 'stdio' | 'streamable-http';
}

/** Something found about one tool of a `tools/list` result (poisoned description, changed since pinned, shadowing…). */
export interface ToolListFinding {
  server: string;
  tool: string;
  /** Machine-readable: e.g. `injection`, `changed`, `new`, `shadows`. */
  type: string;
  message: string;
  /** True when the tool was removed from the list the client receives. */
  hidden: boolean;
}

export interface ToolListGuard {
  /**
   * Checks one `tools/list` result of `server`. Returns the tools the client may see (the list given, or fewer) and what
   * was found. A throw makes the proxy answer the client's `tools/list` with a JSON-RPC error (fail closed).
   */
  checkToolList(server: string, tools: McpTool[], session: McpSessionInfo): Promise<{ tools: McpTool[]; findings: ToolListFinding[] }>;
  /**
   * Before a `tools/call` of `tool` on `server` is decided by policy: a reason string blocks the call (the client gets
   * an isError result with that text, the server never sees the call); null lets it go on to the policy decision.
   * A throw blocks the call.
   */
  blockedTool(server: string, tool: string, session: McpSessionInfo): Promise<string | null>;
  /** Called on `notifications/tools/list_changed` from the server, before the notification is forwarded. Optional. */
  toolListChanged?(server: string, session: McpSessionInfo): Promise<void>;
}
