import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ErrorCode } from '@modelcontextprotocol/sdk/types.js';
import { LOOPBACK_HOST_NAMES, parseHostHeader } from '../../sidecar/plugins/host-check.js';
import { isPlainObject } from '../../core/plain-object.js';
import { refusalResult, SAMPLING_METHOD } from '../actions.js';
import type { McpDecider } from '../decider.js';
import type { McpSessionInfo, ToolListGuard } from '../hooks.js';
import { errorMessage, parseLine, type RpcId } from '../jsonrpc.js';
import { createMessageGuard, type PendingCall, type PendingRead, type PendingSampling } from '../message-guard.js';
import { clientResponseHeaders, SESSION_HEADER, singleHeader, upstreamRequestHeaders } from './headers.js';
import { formatEvent, MAX_EVENT_CHARS, readEvents } from './sse.js';

/**
 * The MCP gateway for Streamable HTTP servers (MCP specification 2025-11-25, "Transports"): one local endpoint that
 * forwards every POST, GET and DELETE to the upstream server's endpoint, headers included (Authorization,
 * Mcp-Session-Id, MCP-Protocol-Version…; never logged). Every tools/call is decided before it is forwarded, and every
 * answer the proxy is waiting for — in a JSON body or in an SSE stream, event by event — is checked by the same
 * message rules as the stdio gateway (src/mcp/message-guard.ts) before the client sees it.
 */

export interface HttpGatewayOptions {
  /** The server's name in action names (`<server>.<tool>`). */
  server: string;
  /** The upstream MCP endpoint, e.g. https://mcp.example.com/mcp. */
  upstream: URL;
  /** Address to listen on (default 127.0.0.1). Requests must name it, or a loopback name, in `Host`. */
  host?: string;
  /** Port to listen on; 0 (default) takes a free one. */
  port?: number;
  decider: McpDecider;
  approvalWaitMs: number;
  guard?: ToolListGuard;
  log: (message: string) => void;
}

export interface HttpGateway {
  /** The endpoint to give MCP clients (any path on this port is forwarded to the upstream endpoint). */
  url: string;
  port: number;
  close(): Promise<void>;
}

/** An answer from the server the proxy must check before the client sees it. */
type Pending = { kind: 'call'; call: PendingCall } | { kind: 'read'; read: PendingRead } | { kind: 'list' };

const UPSTREAM_FAILED = -32000;
const MAX_BODY_BYTES = MAX_EVENT_CHARS;
const WILDCARD_HOSTS = new Set(['0.0.0.0', '::', '[::]']);

export async function startHttpGateway(options: HttpGatewayOptions): Promise<HttpGateway> {
  const { server: name, upstream, log } = options;
  const host = options.host ?? '127.0.0.1';
  const messages = createMessageGuard({ server: name, decider: options.decider, approvalWaitMs: options.approvalWaitMs, ...(options.guard ? { guard: options.guard } : {}), log });
  // Stateless servers give no Mcp-Session-Id: their calls share one session per proxy process.
  const fallbackSession = `mcp_${randomUUID()}`;
  /** Answers still owed per MCP session, so a stream the client resumes with GET (Last-Event-ID) is checked too. */
  const owed = new Map<string, Map<RpcId, Pending>>();
  const hostName = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  const allowedHosts = new Set<string>([...LOOPBACK_HOST_NAMES, ...(WILDCARD_HOSTS.has(host) ? [] : [hostName.toLowerCase()])]);
  const where = `${upstream.origin}${upstream.pathname}`;
  /** tools/call requests being decided, by session and request id, so a notifications/cancelled can stop their forwarding. */
  const deciding = new Map<string, { cancelled: boolean }>();
  const decidingKey = (sessionId: string, id: unknown): string => `${sessionId}\n${typeof id}:${String(id)}`;
  /** The server's sampling requests forwarded to the client, by session and the server's request id. */
  const samplings = new Map<string, PendingSampling>();

  const sessionOf = (sessionId: string | undefined): McpSessionInfo => ({ id: sessionId ?? fallbackSession, transport: 'streamable-http' });

  function take(sessionId: string | undefined, id: RpcId, local?: Map<RpcId, Pending>): Pending | undefined {
    const fromSession = sessionId !== undefined ? owed.get(sessionId) : undefined;
    const pending = local?.get(id) ?? fromSession?.get(id);
    local?.delete(id);
    fromSession?.delete(id);
    if (fromSession?.size === 0) owed.delete(sessionId!);
    return pending;
  }

  /** The message to deliver for an answer the proxy was waiting for, and what to do once it was delivered. */
  async function checked(pending: Pending, id: RpcId, message: Record<string, unknown>, session: McpSessionInfo): Promise<{ message: Record<string, unknown>; after?: () => Promise<void> }> {
    if (pending.kind === 'call') {
      const result = await messages.checkCallResult(id, pending.call, message, session);
      return { message: result.message, after: result.record };
    }
    if (pending.kind === 'read') return { message: await messages.checkRead(id, pending.read, message) };
    return { message: await messages.checkToolList(id, message, session) };
  }

  function hostProblem(request: IncomingMessage): string | undefined {
    const header = request.headers.host;
    const parsed = typeof header === 'string' ? parseHostHeader(header) : null;
    // The header is not echoed: it is whatever a web page chose (DNS rebinding).
    if (parsed === null || !allowedHosts.has(parsed.name)) return `this MCP proxy answers only to Host ${[...allowedHosts].join(', ')}`;
    if (parsed.port !== undefined && parsed.port !== request.socket.localPort) return `the Host header names port ${parsed.port}, but this MCP proxy listens on ${request.socket.localPort}`;
    return undefined;
  }

  function sendJson(response: ServerResponse, status: number, body: unknown, headers: Record<string, string | string[]> = {}): void {
    const text = JSON.stringify(body);
    response.writeHead(status, { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text);
  }

  /** Calls the upstream endpoint; a string is why it could not be reached. Redirects are refused (they would take the client's credentials elsewhere). */
  async function callUpstream(request: IncomingMessage, body: string | undefined, signal: AbortSignal): Promise<Response | string> {
    try {
      return await fetch(upstream, { method: request.method!, headers: upstreamRequestHeaders(request.headers), ...(body !== undefined ? { body } : {}), redirect: 'error', signal });
    } catch (error) {
      const cause = (error as { cause?: { code?: unknown; message?: unknown } }).cause;
      const why = typeof cause?.code === 'string' ? cause.code : typeof cause?.message === 'string' ? cause.message : (error as Error).message;
      return `the MCP server ${name} at ${where} could not be reached (${why})`;
    }
  }

  /**
   * Delivers the upstream response to the client. JSON bodies and SSE events that answer a request in `local` (or one
   * owed to the session) are checked first; everything else passes unchanged. Error statuses pass as they are.
   */
  async function relay(request: IncomingMessage, upstreamResponse: Response, response: ServerResponse, sessionId: string | undefined, local?: Map<RpcId, Pending>): Promise<void> {
    const headers = clientResponseHeaders(upstreamResponse.headers);
    const type = (upstreamResponse.headers.get('content-type') ?? '').toLowerCase();
    const answeredSession = upstreamResponse.headers.get(SESSION_HEADER) ?? sessionId;
    const session = sessionOf(answeredSession ?? undefined);
    if (!upstreamResponse.ok || upstreamResponse.body === null || (!type.startsWith('application/json') && !type.startsWith('text/event-stream'))) {
      response.writeHead(upstreamResponse.status, headers);
      if (upstreamResponse.body) for await (const chunk of upstreamResponse.body as unknown as AsyncIterable<Uint8Array>) response.write(chunk);
      response.end();
      return;
    }
    if (type.startsWith('application/json')) {
      const text = await upstreamResponse.text();
      const parsed = parseLine(text);
      const id = parsed.ok ? (parsed.message.id as RpcId | undefined) : undefined;
      const pending = parsed.ok && id !== undefined && parsed.message.method === undefined ? take(sessionId, id, local) : undefined;
      if (!parsed.ok && local && local.size > 0) {
        const [owedId] = local.keys();
        take(sessionId, owedId!, local);
        sendJson(response, 502, errorMessage(owedId!, ErrorCode.InternalError, `the MCP server ${name} sent an answer that is not JSON-RPC`));
        return;
      }
      if (!pending || !parsed.ok) {
        response.writeHead(upstreamResponse.status, headers).end(text);
        return;
      }
      const delivered = await checked(pending, id!, parsed.message, session);
      const out = delivered.message === parsed.message ? text : JSON.stringify(delivered.message);
      response.writeHead(upstreamResponse.status, { ...headers, 'content-length': Buffer.byteLength(out) }).end(out);
      await delivered.after?.();
      return;
    }
    response.writeHead(upstreamResponse.status, headers);
    response.flushHeaders();
    try {
      for await (const event of readEvents(upstreamResponse.body)) {
        if ('retry' in event || event.data === '') {
          response.write(formatEvent(event));
          continue;
        }
        const parsed = parseLine(event.data);
        if (!parsed.ok) {
          log(`agentguard mcp: the server ${name} sent an event that is not JSON-RPC; it was dropped`);
          continue;
        }
        const id = parsed.message.id as RpcId | undefined;
        if (parsed.message.method === SAMPLING_METHOD && id !== undefined) {
          const verdict = await messages.decideSampling(id, parsed.message, session);
          if ('answer' in verdict) {
            await answerUpstream(request, verdict.answer);
            continue;
          }
          samplings.set(decidingKey(session.id, id), verdict.sampling);
          response.write(formatEvent(verdict.forward === parsed.message ? event : { ...event, data: JSON.stringify(verdict.forward) }));
          continue;
        }
        const pending = id !== undefined && parsed.message.method === undefined ? take(answeredSession ?? undefined, id, local) : undefined;
        if (!pending) {
          response.write(formatEvent(event));
          continue;
        }
        const delivered = await checked(pending, id!, parsed.message, session);
        response.write(formatEvent(delivered.message === parsed.message ? event : { ...event, data: JSON.stringify(delivered.message) }));
        await delivered.after?.();
      }
    } catch (error) {
      if (!response.destroyed) {
        log(`agentguard mcp: the event stream of ${name} broke: ${(error as Error)?.message ?? String(error)}`);
        // What this request still waits for will not come: answer it, so the client does not wait forever.
        for (const id of local?.keys() ?? []) {
          take(answeredSession ?? undefined, id, local);
          response.write(formatEvent({ data: JSON.stringify(errorMessage(id, UPSTREAM_FAILED, `the event stream of the MCP server ${name} broke before it answered`)) }));
        }
      }
    }
    response.end();
  }

  /** Sends the server, as the client would, an answer the proxy gives in the client's place (a refused sampling request). */
  async function answerUpstream(request: IncomingMessage, message: Record<string, unknown>): Promise<void> {
    const headers = upstreamRequestHeaders(request.headers);
    headers.set('content-type', 'application/json');
    headers.set('accept', 'application/json, text/event-stream');
    try {
      const answered = await fetch(upstream, { method: 'POST', headers, body: JSON.stringify(message), redirect: 'error' });
      await answered.body?.cancel();
      if (!answered.ok) log(`agentguard mcp: the server ${name} did not take the refusal of its sampling request (HTTP ${answered.status})`);
    } catch (error) {
      log(`agentguard mcp: could not send the server ${name} the refusal of its sampling request: ${(error as Error)?.message ?? String(error)}`);
    }
  }

  async function readBody(request: IncomingMessage): Promise<string | undefined> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of request as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) return undefined;
      chunks.push(chunk);
    }
    return Buffer.concat(chunks).toString('utf8');
  }

  async function post(request: IncomingMessage, response: ServerResponse, signal: AbortSignal): Promise<void> {
    const body = await readBody(request);
    if (body === undefined) {
      sendJson(response, 413, errorMessage(null, ErrorCode.InvalidRequest, `Invalid Request: the message is over ${MAX_BODY_BYTES} bytes`));
      return;
    }
    const parsed = parseLine(body);
    if (!parsed.ok) {
      sendJson(response, 400, parsed.error);
      return;
    }
    const message = parsed.message;
    const sessionId = singleHeader(request.headers, SESSION_HEADER);
    const session = sessionOf(sessionId);
    const method = typeof message.method === 'string' ? message.method : undefined;
    const id = message.id as RpcId | undefined;
    let outgoing = body;
    let pending: Pending | undefined;
    let afterForward: (() => Promise<void>) | undefined;
    const sampling = method === undefined && id !== undefined ? samplings.get(decidingKey(session.id, id)) : undefined;
    if (sampling) {
      samplings.delete(decidingKey(session.id, id));
      const checkedAnswer = await messages.checkSamplingResult(id!, sampling, message, session);
      if (checkedAnswer.message !== message) outgoing = JSON.stringify(checkedAnswer.message);
      afterForward = checkedAnswer.record;
    } else if (method === 'tools/call' && id !== undefined) {
      // Only calls of a session can be cancelled: without one, clients of a stateless server could cancel each other's.
      const key = sessionId !== undefined ? decidingKey(sessionId, id) : undefined;
      const state = { cancelled: false };
      if (key !== undefined) deciding.set(key, state);
      let verdict: Awaited<ReturnType<typeof messages.decideCall>>;
      try {
        verdict = await messages.decideCall(id, message, session);
      } finally {
        if (key !== undefined) deciding.delete(key);
      }
      const headers: Record<string, string> = sessionId !== undefined ? { [SESSION_HEADER]: sessionId } : {};
      if ('answer' in verdict) {
        sendJson(response, 200, verdict.answer, headers);
        return;
      }
      if (state.cancelled) {
        sendJson(response, 200, { jsonrpc: '2.0', id, result: refusalResult('the client cancelled this call before it was decided; it was not sent to the server') }, headers);
        return;
      }
      pending = { kind: 'call', call: verdict.call };
      if (verdict.forward !== message) outgoing = JSON.stringify(verdict.forward);
    } else if (method === 'notifications/cancelled' && sessionId !== undefined && isPlainObject(message.params)) {
      const state = deciding.get(decidingKey(sessionId, message.params.requestId));
      if (state) state.cancelled = true;
    } else if (method === 'tools/list' && id !== undefined) {
      pending = { kind: 'list' };
    } else if (method !== undefined && id !== undefined) {
      const read = messages.readOf(message, session);
      if (read) pending = { kind: 'read', read };
    }
    const local = new Map<RpcId, Pending>();
    if (pending && id !== undefined) {
      local.set(id, pending);
      if (sessionId !== undefined) owed.set(sessionId, (owed.get(sessionId) ?? new Map()).set(id, pending));
    }
    // The client went away (or cancelled) while the call was being decided: it is not forwarded.
    if (signal.aborted) {
      if (id !== undefined) take(sessionId, id, local);
      return;
    }
    const upstreamResponse = await callUpstream(request, outgoing, signal);
    if (typeof upstreamResponse === 'string') {
      if (id !== undefined) take(sessionId, id, local);
      log(`agentguard mcp: ${upstreamResponse}`);
      sendJson(response, 502, errorMessage(method !== undefined ? (id ?? null) : null, UPSTREAM_FAILED, upstreamResponse));
      return;
    }
    await afterForward?.();
    await relay(request, upstreamResponse, response, sessionId, local);
  }

  async function forward(request: IncomingMessage, response: ServerResponse, signal: AbortSignal): Promise<void> {
    const sessionId = singleHeader(request.headers, SESSION_HEADER);
    const upstreamResponse = await callUpstream(request, undefined, signal);
    if (typeof upstreamResponse === 'string') {
      log(`agentguard mcp: ${upstreamResponse}`);
      sendJson(response, 502, errorMessage(null, UPSTREAM_FAILED, upstreamResponse));
      return;
    }
    if (request.method === 'DELETE' && upstreamResponse.ok && sessionId !== undefined) {
      owed.delete(sessionId);
      for (const key of samplings.keys()) if (key.startsWith(`${sessionId}\n`)) samplings.delete(key);
    }
    await relay(request, upstreamResponse, response, sessionId);
  }

  /** Every request still being served, so closing the gateway also ends their upstream requests (an SSE stream never ends by itself). */
  const inFlight = new Set<AbortController>();
  const httpServer = createServer((request, response) => {
    const aborted = new AbortController();
    inFlight.add(aborted);
    response.on('close', () => {
      inFlight.delete(aborted);
      if (!response.writableFinished) aborted.abort();
    });
    const problem = hostProblem(request);
    if (problem) {
      request.resume();
      sendJson(response, 421, errorMessage(null, UPSTREAM_FAILED, problem));
      return;
    }
    let work: Promise<void>;
    if (request.method === 'POST') work = post(request, response, aborted.signal);
    else if (request.method === 'GET' || request.method === 'DELETE') work = forward(request, response, aborted.signal);
    else {
      request.resume();
      response.writeHead(405, { allow: 'GET, POST, DELETE' }).end();
      return;
    }
    work.catch((error: unknown) => {
      if (aborted.signal.aborted) return;
      log(`agentguard mcp: internal error: ${(error as Error)?.message ?? String(error)}`);
      if (!response.headersSent) sendJson(response, 500, errorMessage(null, ErrorCode.InternalError, 'agentguard could not handle the request'));
      else response.end();
    });
  });

  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(options.port ?? 0, host, () => {
      httpServer.off('error', reject);
      resolve();
    });
  });
  const port = (httpServer.address() as AddressInfo).port;
  const urlHost = WILDCARD_HOSTS.has(host) ? '127.0.0.1' : hostName;
  return {
    url: `http://${urlHost}:${port}/mcp`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        httpServer.close(() => resolve());
        httpServer.closeAllConnections();
        for (const request of inFlight) request.abort();
        inFlight.clear();
      }),
  };
}
