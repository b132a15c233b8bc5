import { randomUUID } from 'node:crypto';
import type { Readable, Writable } from 'node:stream';
import { ErrorCode } from '@modelcontextprotocol/sdk/types.js';
import { isPlainObject } from '../core/plain-object.js';
import type { McpDecider } from './decider.js';
import type { McpSessionInfo, ToolListGuard } from './hooks.js';
import { SAMPLING_METHOD } from './actions.js';
import { createMessageGuard, type PendingCall, type PendingRead, type PendingSampling } from './message-guard.js';
import { errorMessage, LineSplitter, parseLine, serialize, type RpcId } from './jsonrpc.js';
import { childServer } from './server/child.js';
import type { ServerSide } from './server/side.js';
import type { UpstreamOptions } from './server/http-upstream.js';

interface GatewayCommonOptions {
  /** The server's name in action names (`<server>.<tool>`). */
  server: string;
  decider: McpDecider;
  /** How long a require_approval call waits for a person's answer; 0 denies at once with the approval's id. */
  approvalWaitMs: number;
  guard?: ToolListGuard;
  /** The client's side: what it writes (requests) and where it reads (responses). */
  input: Readable;
  output: Writable;
  /** Where the gateway's own notes go (the server's stderr is passed through to the process's stderr). */
  log: (message: string) => void;
  /** The session decided actions carry, which session taint follows (see McpSessionInfo.taintId); default: this connection's. */
  sessionId?: string;
}

/** The server started as a child process, over stdio. */
export interface ChildServerGatewayOptions extends GatewayCommonOptions {
  command: string;
  args: readonly string[];
  env?: NodeJS.ProcessEnv;
  /** How long the server gets to exit after the client closed its input, before SIGTERM (then as long before SIGKILL). */
  shutdownGraceMs?: number;
}

/** The server reached over Streamable HTTP. */
export interface UpstreamGatewayOptions extends GatewayCommonOptions {
  upstream: UpstreamOptions;
}

export type StdioGatewayOptions = ChildServerGatewayOptions | UpstreamGatewayOptions;

const SERVER_GONE = -32000;

/** Where the gateway's messages for the server go: a child process, or a Streamable HTTP upstream (loaded only then). */
async function serverSideOf(options: StdioGatewayOptions): Promise<ServerSide> {
  if ('upstream' in options) {
    const { httpUpstream } = await import('./server/http-upstream.js');
    return httpUpstream(options.server, options.upstream);
  }
  return childServer({ server: options.server, command: options.command, args: options.args, ...(options.env ? { env: options.env } : {}), ...(options.shutdownGraceMs !== undefined ? { shutdownGraceMs: options.shutdownGraceMs } : {}) });
}

/**
 * The stdio MCP gateway: the client speaks MCP over stdio to it; it reaches the server (a child process it starts, or a
 * Streamable HTTP upstream), forwards JSON-RPC both ways, decides every tools/call (and its result) through the
 * decider, and resolves with the server's exit code (0 for an upstream) once the server side has ended and every
 * answer owed to the client was written.
 */
export async function runStdioGateway(options: StdioGatewayOptions): Promise<number> {
  const { server, guard, input, output, log } = options;
  const messages = createMessageGuard({ server, decider: options.decider, approvalWaitMs: options.approvalWaitMs, ...(guard ? { guard } : {}), log });
  const side = await serverSideOf(options);
  const session: McpSessionInfo = { id: `mcp_${randomUUID()}`, transport: 'upstream' in options ? 'streamable-http' : 'stdio', ...(options.sessionId ? { taintId: options.sessionId } : {}) };
  const calls = new Map<RpcId, PendingCall>();
  const deciding = new Set<RpcId>();
  const cancelled = new Set<RpcId>();
  const listRequests = new Set<RpcId>();
  const reads = new Map<RpcId, PendingRead>();
  /** The server's sampling requests forwarded to the client, by the server's request id. */
  const samplings = new Map<RpcId, PendingSampling>();
  const work = new Set<Promise<void>>();
  let serverGone = false;
  let clientGone = false;

  const toClient = (message: unknown): void => {
    if (clientGone) return;
    output.write(serialize(message));
  };
  const toServer = (message: Record<string, unknown>): boolean => !serverGone && side.send(message);

  const track = (task: Promise<void>): void => {
    const settled = task.catch((error: unknown) => log(`agentguard mcp: internal error: ${(error as Error)?.message ?? String(error)}`)).finally(() => work.delete(settled));
    work.add(settled);
  };

  /** Decides a tools/call and forwards it (with the arguments as decided) or answers it with a tool error. */
  async function handleCall(id: RpcId, message: Record<string, unknown>): Promise<void> {
    deciding.add(id);
    try {
      const verdict = await messages.decideCall(id, message, session);
      if ('answer' in verdict) {
        toClient(verdict.answer);
        return;
      }
      if (cancelled.has(id)) return;
      calls.set(id, verdict.call);
      if (!toServer(verdict.forward)) {
        calls.delete(id);
        toClient(errorMessage(id, SERVER_GONE, `the MCP server ${server} ${side.goneText}`));
      }
    } finally {
      deciding.delete(id);
      cancelled.delete(id);
    }
  }

  /** Checks a tools/call result by the policy's output rules, delivers it (or a tool error), records the outcome. */
  async function handleResult(id: RpcId, call: PendingCall, message: Record<string, unknown>): Promise<void> {
    const checked = await messages.checkCallResult(id, call, message, session);
    toClient(checked.message);
    await checked.record();
  }

  /** Decides a server's sampling request: forwarded to the client, or refused with an error to the server. */
  async function handleSampling(id: RpcId, message: Record<string, unknown>): Promise<void> {
    const verdict = await messages.decideSampling(id, message, session);
    if ('answer' in verdict) {
      toServer(verdict.answer);
      return;
    }
    samplings.set(id, verdict.sampling);
    toClient(verdict.forward);
  }

  /** Checks the client model's answer to a sampling request, sends it (or a refusal) to the server, records the outcome. */
  async function handleSamplingResult(id: RpcId, sampling: PendingSampling, message: Record<string, unknown>): Promise<void> {
    const checked = await messages.checkSamplingResult(id, sampling, message, session);
    toServer(checked.message);
    await checked.record();
  }

  function fromClient(line: string): void {
    const parsed = parseLine(line);
    if (!parsed.ok) {
      toClient(parsed.error);
      return;
    }
    const message = parsed.message;
    const method = typeof message.method === 'string' ? message.method : undefined;
    const id = message.id as RpcId | undefined;
    if (method === 'tools/call' && id !== undefined) {
      // Whatever goes wrong while deciding, the call is not forwarded and the client still gets an answer.
      track(handleCall(id, message));
      return;
    }
    const sampling = method === undefined && id !== undefined ? samplings.get(id) : undefined;
    if (sampling) {
      samplings.delete(id!);
      track(handleSamplingResult(id!, sampling, message));
      return;
    }
    if (method === 'tools/list' && id !== undefined) listRequests.add(id);
    const read = id !== undefined ? messages.readOf(message, session) : undefined;
    if (read) reads.set(id!, read);
    if (method === 'notifications/cancelled' && isPlainObject(message.params)) {
      const target = message.params.requestId as RpcId;
      if (deciding.has(target)) cancelled.add(target);
    }
    if (!toServer(message) && method !== undefined && id !== undefined) {
      reads.delete(id);
      listRequests.delete(id);
      toClient(errorMessage(id, SERVER_GONE, `the MCP server ${server} ${side.goneText}`));
    }
  }

  function fromServer(message: Record<string, unknown>): void {
    const method = typeof message.method === 'string' ? message.method : undefined;
    const id = message.id as RpcId | undefined;
    if (method === undefined && id !== undefined) {
      const call = calls.get(id);
      if (call) {
        calls.delete(id);
        track(handleResult(id, call, message));
        return;
      }
      const read = reads.get(id);
      if (read) {
        reads.delete(id);
        track(messages.checkRead(id, read, message).then(toClient));
        return;
      }
      if (listRequests.delete(id)) {
        track(messages.checkToolList(id, message, session).then(toClient));
        return;
      }
    }
    if (method === SAMPLING_METHOD && id !== undefined) {
      track(handleSampling(id, message));
      return;
    }
    if (method === 'notifications/tools/list_changed' && guard?.toolListChanged) {
      track(guard.toolListChanged(server, session).then(() => toClient(message)));
      return;
    }
    toClient(message);
  }

  const fromClientLines = new LineSplitter(fromClient, () => toClient(errorMessage(null, ErrorCode.InvalidRequest, 'Invalid Request: a message exceeded 10 MiB and was dropped')));
  return new Promise<number>((resolve) => {
    const endClient = (): void => {
      if (serverGone) return;
      side.end();
    };
    const closed = (exitCode: number): void => {
      serverGone = true;
      void (async () => {
        while (work.size > 0) await Promise.all([...work]);
        for (const id of [...calls.keys(), ...listRequests, ...reads.keys()]) toClient(errorMessage(id, SERVER_GONE, `the MCP server ${server} ${side.unansweredText}`));
        calls.clear();
        listRequests.clear();
        reads.clear();
        samplings.clear();
        input.pause();
        input.removeAllListeners('data');
        resolve(exitCode);
      })();
    };
    try {
      side.start({ message: fromServer, log, closed });
    } catch (error) {
      log(`agentguard mcp: ${(error as Error).message}`);
      resolve(1);
      return;
    }
    input.on('data', (chunk: Buffer) => fromClientLines.push(chunk));
    input.on('end', endClient);
    input.on('error', endClient);
    output.on('error', () => {
      clientGone = true;
      endClient();
    });
  });
}
