import type { Decision } from '../../core/action.js';
import { AgentGuardError } from '../../core/errors.js';
import type { TokenUsage } from '../../core/pipeline.js';
import type { AgentGuard } from '../agent-guard.js';
import { mediateRequest, recordCall } from './mediate.js';

/** The part of an SDK's APIPromise a guarded call relies on: the pending response and how it is parsed. */
interface ApiPromiseLike {
  responsePromise: Promise<unknown>;
  parseResponse: (client: unknown, props: unknown) => Promise<unknown>;
}

type ApiPromiseClass = new (client: unknown, responsePromise: Promise<unknown>, parse: (client: unknown, props: unknown) => Promise<unknown>) => unknown;

export interface GuardedCall<Result> {
  guard: AgentGuard;
  provider: string;
  /** Used in the action name when the request names no model (Azure routes by deployment). */
  defaultModel?: string;
  /** The SDK's own APIPromise class and client, so the result is the original type (withResponse(), request ids). */
  ApiPromise: ApiPromiseClass;
  client: unknown;
  /** Sends the (decided, possibly transformed) request with the original method. */
  send: (request: Record<string, unknown>) => unknown;
  /** Checks what came back (tool calls); may change it in place, or throw. */
  check: (result: Result) => Promise<void>;
  usage: (result: Result) => TokenUsage | undefined;
}

export function refuseStream(what: string): AgentGuardError {
  return new AgentGuardError('STREAM_NOT_GUARDED', `streaming through ${what} is not guarded yet, so the request was not sent`, {
    actions: ['Call without stream: true for now.'],
    exitCode: 1,
  });
}

/**
 * Runs one provider call through agentguard and returns the SDK's own APIPromise: the request is decided before
 * anything is sent, the response is parsed by the SDK's own parser, then checked, and the call is audited with its
 * usage (or its error). A request with `stream: true` is refused before anything is sent.
 */
export function guardedCall<Result>(call: GuardedCall<Result>, body: Record<string, unknown>, what: string): unknown {
  let inner: ApiPromiseLike | undefined;
  let decision: Decision | undefined;
  let started = 0;
  const responsePromise = (async () => {
    if (body?.stream) throw refuseStream(what);
    const mediated = await mediateRequest(call.guard, call.provider, String(body?.model ?? call.defaultModel ?? 'unknown'), body);
    decision = mediated.decision;
    started = performance.now();
    inner = call.send(mediated.request) as ApiPromiseLike;
    try {
      return await inner.responsePromise;
    } catch (error) {
      await recordCall(call.guard, decision, started, { error });
      throw error;
    }
  })();
  responsePromise.catch(() => undefined); // rejected for whoever awaits the call, not reported as unhandled
  const parse = async (client: unknown, props: unknown): Promise<unknown> => {
    const result = (await inner!.parseResponse(client, props)) as Result;
    try {
      await call.check(result);
    } catch (error) {
      await recordCall(call.guard, decision!, started, { error });
      throw error;
    }
    await recordCall(call.guard, decision!, started, { usage: call.usage(result) });
    return result;
  };
  return new call.ApiPromise(call.client, responsePromise, parse);
}
