import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { constants } from 'node:os';
import type { Readable, Writable } from 'node:stream';
import { ErrorCode } from '@modelcontextprotocol/sdk/types.js';
import type { Decision } from '../core/action.js';
import { isPlainObject } from '../core/plain-object.js';
import { callAction, promptCheck, reasonText, refusalResult, resourceCheck, resultCheck, type ResultCheck } from './actions.js';
import type { McpDecider } from './decider.js';
import type { McpSessionInfo, McpTool, ToolListGuard } from './hooks.js';
import { errorMessage, LineSplitter, parseLine, serialize, type RpcId } from './jsonrpc.js';

export interface StdioGatewayOptions {
  /** The server's name in action names (`<server>.<tool>`). */
  server: string;
  command: string;
  args: readonly string[];
  decider: McpDecider;
  /** How long a require_approval call waits for a person's answer; 0 denies at once with the approval's id. */
  approvalWaitMs: number;
  guard?: ToolListGuard;
  /** The client's side: what it writes (requests) and where it reads (responses). */
  input: Readable;
  output: Writable;
  /** Where the gateway's own notes go (the server's stderr is passed through to the process's stderr). */
  log: (message: string) => void;
  env?: NodeJS.ProcessEnv;
  /** How long the server gets to exit after the client closed its input, before SIGTERM (then as long before SIGKILL). */
  shutdownGraceMs?: number;
}

/** A tools/call forwarded to the server, waiting for its result. */
interface PendingCall {
  tool: string;
  decision: Decision;
  started: number;
}

const SERVER_GONE = -32000;
/** JSON-RPC error (implementation-defined server error range) for a resources/read or prompts/get result the policy withheld. */
export const WITHHELD = -32003;

/** A resources/read or prompts/get forwarded to the server, whose result is checked by the output rules. */
interface PendingRead {
  what: string;
  check: (result: Record<string, unknown>) => ResultCheck;
}

/**
 * The stdio MCP gateway: starts the server as a child, forwards JSON-RPC both ways, decides every tools/call (and its
 * result) through the decider, and resolves with the server's exit code once the server has exited and every answer
 * owed to the client was written.
 */
export function runStdioGateway(options: StdioGatewayOptions): Promise<number> {
  const { server, decider, guard, input, output, log } = options;
  const session: McpSessionInfo = { id: `mcp_${randomUUID()}`, transport: 'stdio' };
  const calls = new Map<RpcId, PendingCall>();
  const deciding = new Set<RpcId>();
  const cancelled = new Set<RpcId>();
  const listRequests = new Set<RpcId>();
  const reads = new Map<RpcId, PendingRead>();
  const work = new Set<Promise<void>>();
  let serverGone = false;
  let clientGone = false;

  const toClient = (message: unknown): void => {
    if (clientGone) return;
    output.write(serialize(message));
  };

  let child: ChildProcess;
  try {
    child = spawn(options.command, [...options.args], { stdio: ['pipe', 'pipe', 'inherit'], env: options.env ?? process.env });
  } catch (error) {
    log(`agentguard mcp: could not start ${options.command}: ${(error as Error).message}`);
    return Promise.resolve(1);
  }
  const toServer = (message: unknown): boolean => {
    if (serverGone || !child.stdin?.writable) return false;
    child.stdin.write(serialize(message));
    return true;
  };

  const track = (task: Promise<void>): void => {
    const settled = task.catch((error: unknown) => log(`agentguard mcp: internal error: ${(error as Error)?.message ?? String(error)}`)).finally(() => work.delete(settled));
    work.add(settled);
  };

  const answerCall = (id: RpcId, result: Record<string, unknown>): void => toClient({ jsonrpc: '2.0', id, result });

  /** Decides a tools/call and forwards it (with the arguments as decided) or answers it with a tool error. */
  async function handleCall(id: RpcId, message: Record<string, unknown>): Promise<void> {
    const params = isPlainObject(message.params) ? message.params : undefined;
    const tool = params?.name;
    const args = params?.arguments ?? {};
    if (typeof tool !== 'string' || tool === '' || !isPlainObject(args)) {
      toClient(errorMessage(id, ErrorCode.InvalidParams, 'Invalid params: tools/call needs params.name (a string) and params.arguments (an object, when given)'));
      return;
    }
    deciding.add(id);
    try {
      const started = performance.now();
      const blocked = guard ? await guard.blockedTool(server, tool, session).catch((error: unknown) => `the tool check failed: ${(error as Error)?.message ?? String(error)}`) : null;
      if (blocked !== null) {
        answerCall(id, refusalResult(`agentguard blocked ${server}.${tool}: ${blocked}`));
        return;
      }
      let decision = await decider.decide(callAction(server, tool, args, session));
      if (decision.effect === 'require_approval') decision = await decider.settle(decision, options.approvalWaitMs);
      if (decision.effect !== 'allow' && decision.effect !== 'transform') {
        answerCall(id, refusalResult(`agentguard denied ${server}.${tool}: ${reasonText(decision)}`));
        return;
      }
      const decided = decision.effect === 'transform' ? decision.action.input : args;
      if (!isPlainObject(decided)) {
        answerCall(id, refusalResult(`agentguard denied ${server}.${tool}: the policy's transform left the arguments not an object`));
        return;
      }
      if (cancelled.has(id)) return;
      calls.set(id, { tool, decision, started });
      const forwarded = decided === args ? message : { ...message, params: { ...params, arguments: decided } };
      if (!toServer(forwarded)) {
        calls.delete(id);
        toClient(errorMessage(id, SERVER_GONE, `the MCP server ${server} has exited`));
      }
    } finally {
      deciding.delete(id);
      cancelled.delete(id);
    }
  }

  /** Checks a tools/call result by the policy's output rules, delivers it (or a tool error), records the outcome. */
  async function handleResult(id: RpcId, call: PendingCall, message: Record<string, unknown>): Promise<void> {
    const durationMs = performance.now() - call.started;
    if (!isPlainObject(message.result)) {
      toClient(message);
      const error = isPlainObject(message.error) && typeof message.error.message === 'string' ? message.error.message : 'JSON-RPC error';
      await decider.recordOutcome(call.decision, { status: 'error', durationMs, error });
      return;
    }
    const check = resultCheck(server, call.tool, message.result, session);
    let delivered = message.result;
    if (check.action) {
      const decision = await decider.decide(check.action);
      if (decision.effect === 'allow' || decision.effect === 'transform') {
        const applied = check.apply(decision);
        delivered = applied.ok ? applied.result : refusalResult(`agentguard withheld the result of ${server}.${call.tool}: ${applied.problem}`);
      } else {
        delivered = refusalResult(`agentguard withheld the result of ${server}.${call.tool}: ${reasonText(decision)}`);
      }
    }
    toClient(delivered === message.result ? message : { ...message, result: delivered });
    const isError = message.result.isError === true;
    await decider.recordOutcome(call.decision, isError ? { status: 'error', durationMs, error: 'the tool returned isError: true' } : { status: 'ok', durationMs });
  }

  /** Checks a resources/read or prompts/get result by the output rules; withheld → a JSON-RPC error naming the reason. */
  async function handleRead(id: RpcId, read: PendingRead, message: Record<string, unknown>): Promise<void> {
    if (!isPlainObject(message.result)) {
      toClient(message);
      return;
    }
    const check = read.check(message.result);
    if (!check.action) {
      toClient(message);
      return;
    }
    const decision = await decider.decide(check.action);
    if (decision.effect === 'allow' || decision.effect === 'transform') {
      const applied = check.apply(decision);
      if (applied.ok) {
        toClient(applied.result === message.result ? message : { ...message, result: applied.result });
        return;
      }
      toClient(errorMessage(id, WITHHELD, `agentguard withheld ${read.what}: ${applied.problem}`));
      return;
    }
    toClient(errorMessage(id, WITHHELD, `agentguard withheld ${read.what}: ${reasonText(decision)}`));
  }

  /** Passes a tools/list result through the guard, when there is one. A guard failure is an error answer. */
  async function handleToolList(id: RpcId, message: Record<string, unknown>): Promise<void> {
    const result = message.result;
    if (!guard || !isPlainObject(result) || !Array.isArray(result.tools)) {
      toClient(message);
      return;
    }
    try {
      const checked = await guard.checkToolList(server, result.tools as McpTool[], session);
      for (const finding of checked.findings) log(`agentguard mcp: ${finding.server}.${finding.tool}: ${finding.message}${finding.hidden ? ' (hidden from the client)' : ''}`);
      toClient({ ...message, result: { ...result, tools: checked.tools } });
    } catch (error) {
      toClient(errorMessage(id, ErrorCode.InternalError, `agentguard could not check the tools of ${server}, so they are not listed: ${(error as Error)?.message ?? String(error)}`));
    }
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
      track(handleCall(id, message).catch((error: unknown) => answerCall(id, refusalResult(`agentguard denied the call: it could not be decided (${(error as Error)?.message ?? String(error)})`))));
      return;
    }
    if (method === 'tools/list' && id !== undefined) listRequests.add(id);
    if (id !== undefined && isPlainObject(message.params)) {
      const { uri, name } = message.params;
      if (method === 'resources/read' && typeof uri === 'string') reads.set(id, { what: `the resource ${uri} of ${server}`, check: (r) => resourceCheck(server, uri, r, session) });
      if (method === 'prompts/get' && typeof name === 'string') reads.set(id, { what: `the prompt ${name} of ${server}`, check: (r) => promptCheck(server, name, r, session) });
    }
    if (method === 'notifications/cancelled' && isPlainObject(message.params)) {
      const target = message.params.requestId as RpcId;
      if (deciding.has(target)) cancelled.add(target);
    }
    if (!toServer(message) && method !== undefined && id !== undefined) {
      reads.delete(id);
      listRequests.delete(id);
      toClient(errorMessage(id, SERVER_GONE, `the MCP server ${server} has exited`));
    }
  }

  function fromServer(line: string): void {
    const parsed = parseLine(line);
    if (!parsed.ok) {
      log(`agentguard mcp: the server ${server} sent a malformed message: ${parsed.error.error.message}`);
      toServer(parsed.error);
      return;
    }
    const message = parsed.message;
    const method = typeof message.method === 'string' ? message.method : undefined;
    const id = message.id as RpcId | undefined;
    if (method === undefined && id !== undefined) {
      const call = calls.get(id);
      if (call) {
        calls.delete(id);
        track(handleResult(id, call, message).catch((error: unknown) => answerCall(id, refusalResult(`agentguard withheld the result of ${server}.${call.tool}: it could not be checked (${(error as Error)?.message ?? String(error)})`))));
        return;
      }
      const read = reads.get(id);
      if (read) {
        reads.delete(id);
        track(handleRead(id, read, message).catch((error: unknown) => toClient(errorMessage(id, WITHHELD, `agentguard withheld ${read.what}: it could not be checked (${(error as Error)?.message ?? String(error)})`))));
        return;
      }
      if (listRequests.delete(id)) {
        track(handleToolList(id, message));
        return;
      }
    }
    if (method === 'notifications/tools/list_changed' && guard?.toolListChanged) {
      track(guard.toolListChanged(server, session).then(() => toClient(message)));
      return;
    }
    toClient(message);
  }

  const fromClientLines = new LineSplitter(fromClient, () => toClient(errorMessage(null, ErrorCode.InvalidRequest, 'Invalid Request: a message exceeded 10 MiB and was dropped')));
  const fromServerLines = new LineSplitter(fromServer, () => log(`agentguard mcp: the server ${server} sent a message over 10 MiB; it was dropped`));

  return new Promise<number>((resolve) => {
    let exitCode: number | undefined;
    let killTimer: NodeJS.Timeout | undefined;

    const endClient = (): void => {
      if (serverGone) return;
      child.stdin?.end();
      const grace = options.shutdownGraceMs ?? 2000;
      killTimer = setTimeout(() => {
        child.kill('SIGTERM');
        killTimer = setTimeout(() => child.kill('SIGKILL'), grace);
        killTimer.unref();
      }, grace);
      killTimer.unref();
    };

    input.on('data', (chunk: Buffer) => fromClientLines.push(chunk));
    input.on('end', endClient);
    input.on('error', endClient);
    output.on('error', () => {
      clientGone = true;
      endClient();
    });
    child.stdout!.on('data', (chunk: Buffer) => fromServerLines.push(chunk));
    child.stdin!.on('error', (error) => log(`agentguard mcp: writing to the server ${server} failed: ${error.message}`));

    child.on('error', (error) => {
      log(`agentguard mcp: could not run the server ${server} (${options.command}): ${error.message}`);
      exitCode ??= 1;
    });
    child.on('close', (code, signal) => {
      serverGone = true;
      if (killTimer) clearTimeout(killTimer);
      exitCode ??= code ?? (signal ? 128 + (constants.signals[signal] ?? 0) : 1);
      void (async () => {
        while (work.size > 0) await Promise.all([...work]);
        for (const id of [...calls.keys(), ...listRequests, ...reads.keys()]) toClient(errorMessage(id, SERVER_GONE, `the MCP server ${server} exited before it answered`));
        calls.clear();
        listRequests.clear();
        reads.clear();
        input.pause();
        input.removeAllListeners('data');
        resolve(exitCode!);
      })();
    });
  });
}
