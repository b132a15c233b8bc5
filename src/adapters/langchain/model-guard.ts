import { performance } from 'node:perf_hooks';
import type { Decision } from '../../core/action.js';
import { AgentGuardError } from '../../core/errors.js';
import { callOutcome, inputToRun, recordCall } from '../../sdk/llm/mediate.js';
import { decideOutput } from '../../sdk/llm/output.js';
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
 * wrapModelCall: the request is decided as `kind: "llm"` before anything is sent (deny or approval throw, and the
 * provider gets nothing; a transform is what is sent); the answer is decided as `llm_output` before the agent loop
 * sees it, recorded with the call's outcome and usage in one transaction. The model's own run is tagged `nostream`,
 * so a caller streaming the agent (`streamMode: "messages"`) gets the answer once it was checked, never its raw tokens.
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
    const model = new peers.RunnableBinding({ bound: decided.model, config: { tags: ['nostream'] }, kwargs: {} });
    const started = performance.now();
    let answer: AnswerLike;
    try {
      answer = await handler({ ...decided, model });
    } catch (error) {
      await recordCall(guard, decision, started, { error });
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
