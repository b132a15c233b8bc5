import { performance } from 'node:perf_hooks';
import type { Decision } from '../../core/action.js';
import type { TokenUsage } from '../../core/cost/types.js';
import { AgentGuardError } from '../../core/errors.js';
import { callOutcome, inputToRun, recordCall } from '../../sdk/llm/mediate.js';
import { decideOutput, outputAction, windowCheck } from '../../sdk/llm/output.js';
import { gatedModel } from './gated-model.js';
import { replaceText, setContent, textOf, transformedMessages, wireMessage, type MessageLike } from './messages.js';
import { resolveModelIdentity, usageOf, type ModelIdentity } from './model-call.js';
import { contextFor, type MiddlewareSettings, type RuntimeLike } from './options.js';
import type { LangChainPeers } from './peers.js';

/** The fields of LangChain's ModelRequest the middleware reads and may replace. */
export interface ModelRequestLike {
  model: unknown;
  messages: MessageLike[];
  systemMessage?: MessageLike;
  tools?: Array<{ name?: string; description?: string }>;
  runtime?: RuntimeLike;
  [key: string]: unknown;
}

/** The AIMessage a model call answers with (the fields the middleware reads and may rewrite). */
export interface AnswerLike extends MessageLike {
  usage_metadata?: unknown;
  response_metadata?: Record<string, unknown>;
}

/** The system message is sent first when it has text (as createAgent does). */
function sentMessages(request: ModelRequestLike): MessageLike[] {
  const system = request.systemMessage;
  return system && textOf(system.content) !== '' ? [system, ...request.messages] : [...request.messages];
}

/** The model request as an action's input: an OpenAI-style chat request, so the guarded clients' rules apply. */
function requestInput(identity: ModelIdentity, messages: MessageLike[], tools: ModelRequestLike['tools']): Record<string, unknown> {
  return {
    model: identity.model,
    messages: messages.map(wireMessage),
    ...(tools && tools.length > 0 ? { tools: tools.map((t) => ({ name: t.name ?? null, description: t.description ?? null })) } : {}),
    ...(identity.maxTokens !== undefined ? { max_tokens: identity.maxTokens } : {}),
    ...(identity.temperature !== undefined ? { temperature: identity.temperature } : {}),
  };
}

/** The request with the messages the policy's transform gave (system message included). */
function applyTransform(request: ModelRequestLike, identity: ModelIdentity, decision: Decision): ModelRequestLike {
  const all = sentMessages(request);
  const hasSystem = all.length > request.messages.length;
  const changed = transformedMessages(all, decision.action.input, (messages) => requestInput(identity, messages, request.tools), decision.action.input);
  const [system, ...rest] = changed;
  return hasSystem ? { ...request, systemMessage: system!, messages: rest } : { ...request, messages: changed };
}

/**
 * A call that failed. When a window of its stream was not allowed, that window is decided again, so the audit shows
 * why the stream stopped (with the policy's redactions applied), together with the call's outcome; else the outcome
 * alone is recorded. Never throws.
 */
async function recordFailure(settings: MiddlewareSettings, decision: Decision, started: number, error: unknown, stoppedBy: string | undefined, usage: TokenUsage | undefined, context: Record<string, unknown>): Promise<void> {
  const outcome = { error, ...(usage ? { usage } : {}) };
  if (stoppedBy !== undefined) {
    try {
      const records = settings.guard.answerRecords();
      await records.decide(outputAction(decision.action.name, [stoppedBy], context));
      await records.commit(decision, callOutcome(started, outcome));
      return;
    } catch {
      // falls through to the outcome alone
    }
  }
  await recordCall(settings.guard, decision, started, outcome);
}

/**
 * Usage of a stream that ended before the provider reported it (cut by the policy, or failed part-way): the tokens
 * were billed all the same, so the request and the text written so far are counted, and marked estimated.
 */
async function estimatedUsage(identity: ModelIdentity, input: Record<string, unknown>, written: string): Promise<TokenUsage> {
  const { estimateTextTokens } = await import('../../core/cost/tokens.js');
  return {
    model: identity.model,
    inputTokens: await estimateTextTokens(identity.provider, identity.model, JSON.stringify(input)),
    outputTokens: await estimateTextTokens(identity.provider, identity.model, written),
    estimated: true,
  };
}

/**
 * wrapModelCall: the request is decided as `kind: "llm"` before anything is sent (deny or approval throw, and the
 * provider gets nothing; a transform is what is sent); the answer is decided as `llm_output` before the agent loop
 * sees it, recorded with the call's outcome and usage in one transaction. A streamed answer goes through the guarded
 * clients' hold-back gate (see gatedModel), so a caller streaming the agent gets only checked text.
 */
export function guardModelCall(settings: MiddlewareSettings, peers: LangChainPeers) {
  return async (request: ModelRequestLike, handler: (request: ModelRequestLike) => Promise<AnswerLike>): Promise<AnswerLike> => {
    const { guard } = settings;
    const identity = await resolveModelIdentity(request.model);
    const name = `${identity.provider}.${identity.model}`;
    const context = contextFor(settings, request.runtime);
    const input = requestInput(identity, sentMessages(request), request.tools);
    const decision = await guard.decide({ kind: 'llm', name, input, context });
    inputToRun(decision, undefined);
    const decided = decision.effect === 'transform' ? applyTransform(request, identity, decision) : request;
    const stopped: { stoppedBy?: string } = {};
    const progress = { streamed: false, written: '' };
    const model = gatedModel(peers, decided.model, { check: windowCheck(guard, name, context, stopped), holdBack: settings.holdBack, progress });
    const started = performance.now();
    let answer: AnswerLike;
    try {
      answer = await handler({ ...decided, model });
    } catch (error) {
      const usage = progress.streamed ? await estimatedUsage(identity, decision.action.input ?? input, progress.written).catch(() => undefined) : undefined;
      await recordFailure(settings, decision, started, error, stopped.stoppedBy, usage, context);
      throw error;
    }
    // Read before the answer is checked: a denied answer was still generated and billed.
    const usage = usageOf(answer, identity.model);
    const records = guard.answerRecords();
    try {
      const text = textOf(answer.content);
      const [checked] = await decideOutput(records, name, [text], context);
      if (checked !== text) {
        setContent(answer, replaceText(answer.content, checked!));
        if (answer.response_metadata) delete answer.response_metadata.logprobs; // they spell out the replaced text
      }
    } catch (error) {
      await records.commit(decision, callOutcome(started, { error, usage })).catch(() => undefined);
      throw error;
    }
    try {
      await records.commit(decision, callOutcome(started, { usage }));
    } catch (error) {
      throw new AgentGuardError('AUDIT_UNAVAILABLE', `The answer could not be recorded (${(error as Error).message}), so it is withheld`);
    }
    return answer;
  };
}
