import { StreamableHTTPClientTransport, StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { isPlainObject } from '../../core/plain-object.js';
import { errorMessage, type RpcId } from '../jsonrpc.js';
import type { ServerSide, ServerSideEvents } from './side.js';

export interface UpstreamOptions {
  /** The server's Streamable HTTP endpoint (no user:password part: credentials go in headers). */
  url: URL;
  /** Sent with every request (Authorization…). Never logged, never in an error message. */
  headers: Record<string, string>;
  /**
   * After the client closed its input: how long requests already forwarded get to be answered, then how long the
   * session's DELETE may take, before the connection is closed.
   */
  shutdownGraceMs?: number;
}

const SERVER_GONE = -32000;
const MAX_DETAIL = 200;

/**
 * A Streamable HTTP MCP server as the stdio gateway's server side, through the MCP SDK's client transport
 * (StreamableHTTPClientTransport: the session id, SSE responses, the standalone GET stream and its resumption, redirects
 * kept within the origin). A request the upstream cannot take (unreachable, an HTTP error) is answered with a JSON-RPC
 * error (-32000) naming only the endpoint's origin and path; the header values never appear in what is logged.
 */
export function httpUpstream(server: string, options: UpstreamOptions): ServerSide {
  const where = `${options.url.origin}${options.url.pathname}`;
  const secrets = Object.values(options.headers).filter((v) => v.length >= 4);
  const transport = new StreamableHTTPClientTransport(options.url, { requestInit: { headers: options.headers } });
  const grace = options.shutdownGraceMs ?? 2000;
  /** Requests forwarded and not answered yet: answered with an error if the connection fails or closes first. */
  const outstanding = new Set<RpcId>();
  const initializing = new Set<RpcId>();
  let events: ServerSideEvents | undefined;
  let ending = false;
  let closed = false;
  let drained: (() => void) | undefined;

  /** What went wrong, as text that holds no header value and no part of the URL beyond its origin and path. */
  const describe = (error: unknown): string => {
    const cause = (error as { cause?: { code?: unknown; message?: unknown } })?.cause;
    let text: string;
    if (error instanceof StreamableHTTPError) text = `HTTP ${error.code}: ${error.message.replace(/^Streamable HTTP error: /, '')}`;
    else if (error instanceof Error && error.name === 'AbortError') text = 'the connection was closed';
    else if (error instanceof Error) {
      // fetch says only "fetch failed"; why is in its cause (ECONNREFUSED, ENOTFOUND, "bad port"…).
      const why = typeof cause?.code === 'string' ? cause.code : typeof cause?.message === 'string' ? cause.message : undefined;
      text = why !== undefined ? `${error.message} (${why})` : error.message;
    }
    else text = String(error);
    for (const secret of secrets) text = text.split(secret).join('[header value]');
    text = text.split(options.url.href).join(where);
    return text.length > MAX_DETAIL ? `${text.slice(0, MAX_DETAIL)}…` : text;
  };

  /** Answers a forwarded request the upstream will not answer (the answer goes through the gateway like any response). */
  const unanswered = (id: RpcId, why: string): void => {
    if (!outstanding.delete(id)) return;
    initializing.delete(id);
    events?.message(errorMessage(id, SERVER_GONE, `the MCP server ${server} at ${where} ${why}`) as unknown as Record<string, unknown>);
    if (outstanding.size === 0) drained?.();
  };

  const settle = (ms: number, task: Promise<unknown>): Promise<void> =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      void task.catch(() => undefined).finally(() => {
        clearTimeout(timer);
        resolve();
      });
    });

  async function shutDown(): Promise<void> {
    if (outstanding.size > 0) await settle(grace, new Promise<void>((resolve) => (drained = resolve)));
    if (transport.sessionId !== undefined) await settle(grace, transport.terminateSession());
    closed = true;
    await transport.close().catch(() => undefined);
    for (const id of [...outstanding]) unanswered(id, 'was disconnected before it answered');
    events?.closed(0);
  }

  return {
    goneText: 'is disconnected',
    unansweredText: 'was disconnected before it answered',
    start(handlers) {
      events = handlers;
      transport.onmessage = (message) => {
        const m = message as unknown as Record<string, unknown>;
        const id = m.id as RpcId | undefined;
        if (m.method === undefined && id !== undefined) {
          if (initializing.delete(id) && isPlainObject(m.result) && typeof m.result.protocolVersion === 'string') {
            // Later requests carry MCP-Protocol-Version, as the specification asks of clients after initialization.
            transport.setProtocolVersion(m.result.protocolVersion);
          }
          if (!outstanding.delete(id)) {
            // An answer to nothing forwarded (or already answered with an error): not the client's business.
            if (!closed) handlers.log(`agentguard mcp: the server ${server} answered a request id it was not sent; dropped`);
            return;
          }
          handlers.message(m);
          if (outstanding.size === 0) drained?.();
          return;
        }
        handlers.message(m);
      };
      transport.onerror = (error) => {
        if (!closed) handlers.log(`agentguard mcp: the server ${server} at ${where}: ${describe(error)}`);
      };
      void transport.start();
    },
    send(message) {
      if (ending || closed) return false;
      const id = message.id as RpcId | undefined;
      const request = typeof message.method === 'string' && id !== undefined;
      if (request) {
        outstanding.add(id);
        if (message.method === 'initialize') initializing.add(id);
      }
      transport.send(message as unknown as JSONRPCMessage).catch((error: unknown) => {
        if (request) unanswered(id, `could not be reached: ${describe(error)}`);
      });
      return true;
    },
    end() {
      if (ending) return;
      ending = true;
      void shutDown();
    },
  };
}
