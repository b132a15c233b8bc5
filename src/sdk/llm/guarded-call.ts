import type { Decision } from '../../core/action.js';
import type { TokenUsage } from '../../core/cost/types.js';
import { AgentGuardError } from '../../core/errors.js';
import { callOutcome, mediateRequest, recordCall, type ClientSettings, type Decider } from './mediate.js';
import { outputAction, restorerOf } from './output.js';
import { snapshot } from '../snapshot.js';
import { checkRequestOptions, TOOL_RUNNER, withoutMark } from './request-options.js';

/** The part of an SDK's APIPromise a guarded call relies on: the pending response and how it is parsed. */
interface ApiPromiseLike {
  responsePromise: Promise<unknown>;
  parseResponse: (client: unknown, props: unknown) => Promise<unknown>;
}

type ApiPromiseClass = new (client: unknown, responsePromise: Promise<unknown>, parse: (client: unknown, props: unknown) => Promise<unknown>) => unknown;

/** The SDK's Stream: built from an iterator, with the controller that aborts its HTTP response. */
interface StreamLike<Chunk> extends AsyncIterable<Chunk> {
  controller: AbortController;
}
type StreamClass<Chunk> = new (iterator: () => AsyncIterator<Chunk>, controller: AbortController, client: unknown) => StreamLike<Chunk>;

/** What one guarded call knows once its request was allowed. */
export interface CallContext {
  settings: ClientSettings;
  /** `<provider>.<model>`: the name of the request's action and of its answer's. */
  name: string;
  decision: Decision;
  /** Decides the answer's text and tool calls: for a whole answer, recorded with the call's outcome before it is released. */
  decider: Decider;
  /** Puts back the placeholders the request's `vault` redaction made, when the client is configured to. */
  restore?: (text: string) => string;
  /** Token usage seen in a stream so far. */
  usage?: TokenUsage;
  /** The text the model wrote so far in a stream (to estimate usage when the stream ends before reporting it). */
  written?: () => string;
  /** The window of streamed text whose check stopped the stream (deny or approval), decided again to be recorded. */
  stoppedBy?: string;
}

export interface GuardedCall<Result, Chunk> {
  settings: ClientSettings;
  provider: string;
  /** Used in the action name when the request names no model (Azure routes by deployment). */
  defaultModel?: string;
  /** The SDK's own APIPromise class and client, so the result is the original type (withResponse(), request ids). */
  ApiPromise: ApiPromiseClass;
  client: unknown;
  /** Sends the (decided, possibly transformed) request with the original method. */
  send: (request: Record<string, unknown>) => unknown;
  /** A streamed request as it is sent (e.g. asking for usage), without changing the caller's object. */
  streamRequest?: (request: Record<string, unknown>) => Record<string, unknown>;
  /** Checks a whole answer (output guardrails, tool calls); may change it in place, or throw. */
  check: (result: Result, ctx: CallContext) => Promise<void>;
  /** Yields the chunks of a stream that passed the output guardrails; sets ctx.usage; throws to end the stream. */
  gate: (source: AsyncIterable<Chunk>, ctx: CallContext, body: Record<string, unknown>) => AsyncGenerator<Chunk>;
  usage: (result: Result) => TokenUsage | undefined;
  /** Set when the call is refused before it is decided (e.g. request options that would override it): it rejects with this. */
  refused?: Error;
  /** Refuses a request (as read) before it is decided: returns the error to reject with. */
  refuse?: (request: Record<string, unknown>) => Error | undefined;
  /** For endpoints other than the chat calls: the method's path (`embeddings.create`), put in the action's `context.endpoint`. */
  endpoint?: string;
}

/**
 * Runs one provider call through agentguard and returns the SDK's own APIPromise. The request is decided before
 * anything is sent (never in parallel); the response is parsed by the SDK's own parser, then checked: a whole answer
 * at once, a stream chunk by chunk through the output gate, as the SDK's own Stream class. The call is audited with
 * its usage or its error; a provider's error passes through unchanged.
 */
export function guardedCall<Result, Chunk>(call: GuardedCall<Result, Chunk>, given: Record<string, unknown>): unknown {
  // Read once, now: the policy decides this copy and this copy is sent (a getter, or a change made while the request
  // is being decided, cannot send something else).
  const body = snapshot(given);
  let inner: ApiPromiseLike | undefined;
  let ctx: CallContext | undefined;
  let started = 0;
  const streaming = body?.stream === true;
  const responsePromise = (async () => {
    if (call.refused) throw call.refused;
    const refusal = call.refuse?.(body);
    if (refusal) throw refusal;
    const name = `${call.provider}.${String(body?.model ?? call.defaultModel ?? 'unknown')}`;
    const context = call.endpoint !== undefined ? { ...(call.settings.context ?? {}), endpoint: call.endpoint } : call.settings.context;
    const { decision, request } = await mediateRequest(call.settings.guard, name, body, context);
    const restore = call.settings.restoreRedactions ? restorerOf(decision) : undefined;
    ctx = { settings: call.settings, name, decision, decider: call.settings.guard, ...(restore ? { restore } : {}) };
    started = performance.now();
    inner = call.send(streaming && call.streamRequest ? call.streamRequest(request) : request) as ApiPromiseLike;
    try {
      return await inner.responsePromise;
    } catch (error) {
      await recordCall(call.settings.guard, decision, started, { error });
      throw error;
    }
  })();
  responsePromise.catch(() => undefined); // rejected for whoever awaits the call, not reported as unhandled
  const parse = async (client: unknown, props: unknown): Promise<unknown> => {
    const result = await inner!.parseResponse(client, props);
    const context = ctx!;
    if (streaming) return gatedStream(call, result as StreamLike<Chunk>, client, context, started, body);
    // Read before the answer is checked: a denied answer was still generated and billed, so its usage counts.
    const usage = call.usage(result as Result);
    // The answer's decisions and the call's outcome are committed in one transaction, before the answer is returned.
    const records = call.settings.guard.answerRecords();
    try {
      await call.check(result as Result, { ...context, decider: records });
    } catch (error) {
      await records.commit(context.decision, callOutcome(started, { error, usage })).catch(() => undefined);
      throw error;
    }
    try {
      await records.commit(context.decision, callOutcome(started, { usage }));
    } catch (error) {
      throw new AgentGuardError('AUDIT_UNAVAILABLE', `The answer could not be recorded (${(error as Error).message}), so it is withheld`);
    }
    return result;
  };
  return new call.ApiPromise(call.client, responsePromise, parse);
}

/** Usage of a stream that ended without reporting it: the request's prompt and the text written so far, counted. */
export async function estimatedUsage(ctx: CallContext): Promise<TokenUsage> {
  const { estimateTextTokens } = await import('../../core/cost/tokens.js');
  const dot = ctx.name.indexOf('.');
  const [provider, model] = [ctx.name.slice(0, dot), ctx.name.slice(dot + 1)];
  return {
    model,
    inputTokens: await estimateTextTokens(provider, model, JSON.stringify(ctx.decision.action.input ?? {})),
    outputTokens: await estimateTextTokens(provider, model, ctx.written?.() ?? ''),
    estimated: true,
  };
}

/** The SDK's Stream class again, over the gated chunks; the call is recorded when the stream ends, fails or is left. */
function gatedStream<Chunk>(call: Pick<GuardedCall<unknown, Chunk>, 'settings' | 'gate'>, source: StreamLike<Chunk>, client: unknown, ctx: CallContext, started: number, body: Record<string, unknown>): StreamLike<Chunk> {
  const Stream = source.constructor as StreamClass<Chunk>;
  async function* run(): AsyncGenerator<Chunk> {
    let outcome: { error?: unknown } | undefined;
    try {
      yield* call.gate(source, ctx, body);
      outcome = {};
    } catch (error) {
      outcome = { error };
      throw error;
    } finally {
      if (outcome?.error !== undefined || outcome === undefined) source.controller.abort(); // stopped or left early: stop the provider too
      // Tokens are billed even when the stream was cut before the provider reported them: estimate, and say so.
      const usage = ctx.usage ?? (await estimatedUsage(ctx));
      const result = outcome?.error !== undefined ? { error: outcome.error, usage } : { usage };
      if (ctx.stoppedBy !== undefined && outcome?.error !== undefined) await recordCut(ctx, started, result);
      else await recordCall(call.settings.guard, ctx.decision, started, result);
    }
  }
  return new Stream(() => run(), source.controller, client);
}

/**
 * A stream cut by a window the policy did not allow: the window is decided again (so it is recorded, with the policy's
 * redactions applied as for any denied answer) together with the call's outcome, so the audit shows why it stopped.
 * Never throws; if that fails, the outcome alone is recorded.
 */
export async function recordCut(ctx: CallContext, started: number, outcome: { error?: unknown; usage?: TokenUsage }): Promise<void> {
  try {
    const records = ctx.settings.guard.answerRecords();
    await records.decide(outputAction(ctx.name, [ctx.stoppedBy!], ctx.settings.context));
    await records.commit(ctx.decision, callOutcome(started, outcome));
  } catch {
    await recordCall(ctx.settings.guard, ctx.decision, started, outcome);
  }
}

/** The client a guarded method belongs to. */
export type ClientBinding = Pick<GuardedCall<unknown, unknown>, 'settings' | 'provider' | 'defaultModel' | 'ApiPromise' | 'client'>;

/** What differs between guarded methods: how the answer is checked, how a stream is gated, where usage is. */
export type CallHandlers<Result, Chunk> = Pick<GuardedCall<Result, Chunk>, 'check' | 'gate' | 'usage' | 'streamRequest'>;

/**
 * Replaces `owner.create` (e.g. `client.chat.completions`) with its guarded version; the original sends. Per-request
 * options that would change what is sent are refused (see checkRequestOptions). Calls made by a tool runner
 * (`runTools`, marked TOOL_RUNNER) throw on a denied tool call whatever `toolCalls` says: the runner would run it.
 */
export function guardCreate<Result, Chunk>(owner: object, binding: ClientBinding, handlers: CallHandlers<Result, Chunk>, label: string): void {
  const target = owner as { create: (body: Record<string, unknown>, options?: unknown) => unknown };
  const original = target.create.bind(owner);
  const throwing: ClientSettings = { ...binding.settings, toolCalls: 'throw' };
  target.create = (body, options) => {
    let refused: Error | undefined;
    try {
      checkRequestOptions(options, label, 'create');
    } catch (error) {
      refused = error as Error;
    }
    const settings = (options as { [TOOL_RUNNER]?: boolean } | undefined)?.[TOOL_RUNNER] === true ? throwing : binding.settings;
    const sendOptions = withoutMark(options);
    return guardedCall<Result, Chunk>({ ...binding, settings, ...handlers, send: (request) => original(request, sendOptions), ...(refused ? { refused } : {}) }, body);
  };
}
