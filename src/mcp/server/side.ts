/**
 * The server side of the stdio gateway (src/mcp/gateway.ts): where the client's messages go and the server's come
 * from. Two kinds: a child process speaking MCP over stdio (./child.ts) and a Streamable HTTP server the gateway
 * connects to (./http-upstream.ts). The gateway's message rules do not depend on which.
 */

export interface ServerSideEvents {
  /** A JSON-RPC message from the server (already parsed and checked as JSON-RPC 2.0). */
  message(message: Record<string, unknown>): void;
  /** A note for the gateway's log (stderr); never holds a secret. */
  log(message: string): void;
  /** The server side has ended (the child exited, or the upstream connection was closed), with the gateway's exit code. */
  closed(exitCode: number): void;
}

export interface ServerSide {
  /** How errors owed to the client say the server is gone, e.g. `has exited`, after "the MCP server <name>". */
  readonly goneText: string;
  /** The same, for a request that was forwarded but will never be answered, e.g. `exited before it answered`. */
  readonly unansweredText: string;
  /** Starts it. Throws when it cannot start at all (the gateway then exits 1). */
  start(events: ServerSideEvents): void;
  /** Sends one message; false when the server is gone (nothing was sent). */
  send(message: Record<string, unknown>): boolean;
  /** The client closed its side: end the server (the gateway finishes once `closed` was called). */
  end(): void;
}
