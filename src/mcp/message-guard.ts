import { ErrorCode } from '@modelcontextprotocol/sdk/types.js';
import type { Decision } from '../core/action.js';
import { isPlainObject } from '../core/plain-object.js';
import { callAction, promptCheck, reasonText, refusalResult, resourceCheck, resultCheck, samplingAction, samplingResultCheck, type ResultCheck } from './actions.js';
import type { McpDecider } from './decider.js';
import type { McpSessionInfo, McpTool, ToolListGuard } from './hooks.js';
import { errorMessage, type RpcId } from './jsonrpc.js';

/**
 * The MCP gateway's message-level rules, shared by every transport (stdio: src/mcp/gateway.ts, Streamable HTTP:
 * src/mcp/http/): decide a tools/call, check its result, check resources/read and prompts/get results and tools/list
 * results. Each function returns the message to send instead of writing it, so the transport decides where it goes.
 */

/** JSON-RPC error (implementation-defined server error range) for a resources/read or prompts/get result the policy withheld. */
export const WITHHELD = -32003;
/** JSON-RPC error the server gets for a sampling request the policy refused (the code MCP uses for a user's refusal). */
export const SAMPLING_REFUSED = -1;

/** A tools/call forwarded to the server, waiting for its result. */
export interface PendingCall {
  tool: string;
  decision: Decision;
  started: number;
}

/** A resources/read or prompts/get forwarded to the server, whose result is checked by the output rules. */
export interface PendingRead {
  what: string;
  check: (result: Record<string, unknown>) => ResultCheck;
}

export interface MessageGuardOptions {
  /** The server's name in action names (`<server>.<tool>`). */
  server: string;
  decider: McpDecider;
  /** How long a require_approval call waits for a person's answer; 0 denies at once with the approval's id. */
  approvalWaitMs: number;
  guard?: ToolListGuard;
  log: (message: string) => void;
}

/** A server's sampling/createMessage request forwarded to the client, whose answer is checked before the server gets it. */
export interface PendingSampling {
  decision: Decision;
  started: number;
}

/** What to do with a server's sampling request: forward `forward` to the client, or send `answer` back to the server. */
export type SamplingVerdict = { forward: Record<string, unknown>; sampling: PendingSampling } | { answer: Record<string, unknown> };

/** What to do with a tools/call: forward `forward` (arguments as decided) and remember `call`, or send `answer` to the client. */
export type CallVerdict = { forward: Record<string, unknown>; call: PendingCall } | { answer: Record<string, unknown> };

export interface MessageGuard {
  /** Decides a tools/call. Never rejects: whatever goes wrong, the call is answered with a tool error, not forwarded. */
  decideCall(id: RpcId, message: Record<string, unknown>, session: McpSessionInfo): Promise<CallVerdict>;
  /**
   * Checks a tools/call result (a response from the server) by the output rules: the message to deliver (the same
   * object when unchanged) and `record`, to call once it was delivered, which records the call's outcome.
   */
  checkCallResult(id: RpcId, call: PendingCall, message: Record<string, unknown>, session: McpSessionInfo): Promise<{ message: Record<string, unknown>; record: () => Promise<void> }>;
  /** The check a resources/read or prompts/get request's result will need, or undefined for any other message. */
  readOf(message: Record<string, unknown>, session: McpSessionInfo): PendingRead | undefined;
  /** Checks a resources/read or prompts/get result; withheld → a JSON-RPC error naming the reason. Never rejects. */
  checkRead(id: RpcId, read: PendingRead, message: Record<string, unknown>): Promise<Record<string, unknown>>;
  /** Decides a server's sampling/createMessage request as an LLM call. Never rejects: a failure refuses the request. */
  decideSampling(id: RpcId, message: Record<string, unknown>, session: McpSessionInfo): Promise<SamplingVerdict>;
  /**
   * Checks the client's answer to a sampling request by the output rules: the message to send the server (a JSON-RPC
   * error when withheld) and `record`, which records the request's outcome. Never rejects.
   */
  checkSamplingResult(id: RpcId, sampling: PendingSampling, message: Record<string, unknown>, session: McpSessionInfo): Promise<{ message: Record<string, unknown>; record: () => Promise<void> }>;
  /** Passes a tools/list result through the tool guard, when there is one; a guard failure is an error answer. Never rejects. */
  checkToolList(id: RpcId, message: Record<string, unknown>, session: McpSessionInfo): Promise<Record<string, unknown>>;
}

const problemOf = (error: unknown): string => (error as Error)?.message ?? String(error);

export function createMessageGuard(options: MessageGuardOptions): MessageGuard {
  const { server, decider, guard, log } = options;
  const answer = (id: RpcId, result: Record<string, unknown>): Record<string, unknown> => ({ jsonrpc: '2.0', id, result });

  async function decide(id: RpcId, message: Record<string, unknown>, session: McpSessionInfo): Promise<CallVerdict> {
    const params = isPlainObject(message.params) ? message.params : undefined;
    const tool = params?.name;
    const args = params?.arguments ?? {};
    if (typeof tool !== 'string' || tool === '' || !isPlainObject(args)) {
      return { answer: errorMessage(id, ErrorCode.InvalidParams, 'Invalid params: tools/call needs params.name (a string) and params.arguments (an object, when given)') as unknown as Record<string, unknown> };
    }
    const started = performance.now();
    const blocked = guard ? await guard.blockedTool(server, tool, session).catch((error: unknown) => `the tool check failed: ${problemOf(error)}`) : null;
    if (blocked !== null) return { answer: answer(id, refusalResult(`agentguard blocked ${server}.${tool}: ${blocked}`)) };
    let decision = await decider.decide(callAction(server, tool, args, session));
    if (decision.effect === 'require_approval') decision = await decider.settle(decision, options.approvalWaitMs);
    if (decision.effect !== 'allow' && decision.effect !== 'transform') {
      return { answer: answer(id, refusalResult(`agentguard denied ${server}.${tool}: ${reasonText(decision)}`)) };
    }
    const decided = decision.effect === 'transform' ? decision.action.input : args;
    if (!isPlainObject(decided)) {
      return { answer: answer(id, refusalResult(`agentguard denied ${server}.${tool}: the policy's transform left the arguments not an object`)) };
    }
    const forward = decided === args ? message : { ...message, params: { ...params, arguments: decided } };
    return { forward, call: { tool, decision, started } };
  }

  async function checkResult(call: PendingCall, message: Record<string, unknown>, session: McpSessionInfo): Promise<{ message: Record<string, unknown>; record: () => Promise<void> }> {
    const durationMs = performance.now() - call.started;
    if (!isPlainObject(message.result)) {
      const error = isPlainObject(message.error) && typeof message.error.message === 'string' ? message.error.message : 'JSON-RPC error';
      return { message, record: () => decider.recordOutcome(call.decision, { status: 'error', durationMs, error }) };
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
    const isError = message.result.isError === true;
    return {
      message: delivered === message.result ? message : { ...message, result: delivered },
      record: () => decider.recordOutcome(call.decision, isError ? { status: 'error', durationMs, error: 'the tool returned isError: true' } : { status: 'ok', durationMs }),
    };
  }

  async function read(id: RpcId, pending: PendingRead, message: Record<string, unknown>): Promise<Record<string, unknown>> {
    if (!isPlainObject(message.result)) return message;
    const check = pending.check(message.result);
    if (!check.action) return message;
    const decision = await decider.decide(check.action);
    if (decision.effect === 'allow' || decision.effect === 'transform') {
      const applied = check.apply(decision);
      if (applied.ok) return applied.result === message.result ? message : { ...message, result: applied.result };
      return errorMessage(id, WITHHELD, `agentguard withheld ${pending.what}: ${applied.problem}`) as unknown as Record<string, unknown>;
    }
    return errorMessage(id, WITHHELD, `agentguard withheld ${pending.what}: ${reasonText(decision)}`) as unknown as Record<string, unknown>;
  }

  const refuseSampling = (id: RpcId, why: string): Record<string, unknown> => errorMessage(id, SAMPLING_REFUSED, `agentguard refused the sampling request of ${server}: ${why}`) as unknown as Record<string, unknown>;

  async function sample(id: RpcId, message: Record<string, unknown>, session: McpSessionInfo): Promise<SamplingVerdict> {
    const params = message.params;
    if (!isPlainObject(params) || !Array.isArray(params.messages)) {
      return { answer: errorMessage(id, ErrorCode.InvalidParams, 'Invalid params: sampling/createMessage needs params.messages (a list)') as unknown as Record<string, unknown> };
    }
    const started = performance.now();
    let decision = await decider.decide(samplingAction(server, params, session));
    if (decision.effect === 'require_approval') decision = await decider.settle(decision, options.approvalWaitMs);
    if (decision.effect !== 'allow' && decision.effect !== 'transform') return { answer: refuseSampling(id, reasonText(decision)) };
    const decided = decision.effect === 'transform' ? decision.action.input : params;
    if (!isPlainObject(decided) || !Array.isArray(decided.messages)) return { answer: refuseSampling(id, "the policy's transform left params.messages not a list") };
    return { forward: decided === params ? message : { ...message, params: decided }, sampling: { decision, started } };
  }

  async function checkSampling(id: RpcId, sampling: PendingSampling, message: Record<string, unknown>, session: McpSessionInfo): Promise<{ message: Record<string, unknown>; record: () => Promise<void> }> {
    const durationMs = performance.now() - sampling.started;
    if (!isPlainObject(message.result)) {
      const error = isPlainObject(message.error) && typeof message.error.message === 'string' ? message.error.message : 'JSON-RPC error';
      return { message, record: () => decider.recordOutcome(sampling.decision, { status: 'error', durationMs, error }) };
    }
    const check = samplingResultCheck(server, message.result, session);
    let out = message;
    if (check.action) {
      const decision = await decider.decide(check.action);
      const applied = decision.effect === 'allow' || decision.effect === 'transform' ? check.apply(decision) : { ok: false as const, problem: reasonText(decision) };
      if (!applied.ok) out = refuseSampling(id, `the model's answer was withheld: ${applied.problem}`);
      else if (applied.result !== message.result) out = { ...message, result: applied.result };
    }
    const ok = out === message || isPlainObject(out.result);
    return { message: out, record: () => decider.recordOutcome(sampling.decision, ok ? { status: 'ok', durationMs } : { status: 'error', durationMs, error: "the model's answer was withheld by policy" }) };
  }

  return {
    async decideSampling(id, message, session) {
      try {
        return await sample(id, message, session);
      } catch (error) {
        return { answer: refuseSampling(id, `it could not be decided (${problemOf(error)})`) };
      }
    },
    async checkSamplingResult(id, sampling, message, session) {
      try {
        return await checkSampling(id, sampling, message, session);
      } catch (error) {
        return { message: refuseSampling(id, `the model's answer could not be checked (${problemOf(error)})`), record: async () => {} };
      }
    },
    async decideCall(id, message, session) {
      try {
        return await decide(id, message, session);
      } catch (error) {
        return { answer: answer(id, refusalResult(`agentguard denied the call: it could not be decided (${problemOf(error)})`)) };
      }
    },
    async checkCallResult(id, call, message, session) {
      try {
        return await checkResult(call, message, session);
      } catch (error) {
        return { message: answer(id, refusalResult(`agentguard withheld the result of ${server}.${call.tool}: it could not be checked (${problemOf(error)})`)), record: async () => {} };
      }
    },
    readOf(message, session) {
      if (!isPlainObject(message.params)) return undefined;
      const { uri, name } = message.params;
      if (message.method === 'resources/read' && typeof uri === 'string') return { what: `the resource ${uri} of ${server}`, check: (r) => resourceCheck(server, uri, r, session) };
      if (message.method === 'prompts/get' && typeof name === 'string') return { what: `the prompt ${name} of ${server}`, check: (r) => promptCheck(server, name, r, session) };
      return undefined;
    },
    async checkRead(id, pending, message) {
      try {
        return await read(id, pending, message);
      } catch (error) {
        return errorMessage(id, WITHHELD, `agentguard withheld ${pending.what}: it could not be checked (${problemOf(error)})`) as unknown as Record<string, unknown>;
      }
    },
    async checkToolList(id, message, session) {
      const result = message.result;
      if (!guard || !isPlainObject(result) || !Array.isArray(result.tools)) return message;
      try {
        const checked = await guard.checkToolList(server, result.tools as McpTool[], session);
        for (const finding of checked.findings) log(`agentguard mcp: ${finding.server}.${finding.tool}: ${finding.message}${finding.hidden ? ' (hidden from the client)' : ''}`);
        return { ...message, result: { ...result, tools: checked.tools } };
      } catch (error) {
        return errorMessage(id, ErrorCode.InternalError, `agentguard could not check the tools of ${server}, so they are not listed: ${problemOf(error)}`) as unknown as Record<string, unknown>;
      }
    },
  };
}
