import type { APIPromise, ClientOptions, OpenAI as OpenAIClient } from 'openai';
import type { ChatCompletion, ChatCompletionCreateParams, ChatCompletionMessageToolCall } from 'openai/resources/chat/completions';
import type { Decision } from '../../core/action.js';
import { AgentGuardError } from '../../core/errors.js';
import type { TokenUsage } from '../../core/pipeline.js';
import { AgentGuard, type AgentGuardOptions } from '../agent-guard.js';
import { decideToolCall, inputToRun, mediateRequest, recordCall, verdictOf, type ToolCallMode } from './mediate.js';
import { loadPeer } from './peer.js';

type OpenAIModule = typeof import('openai');

export interface GuardedOpenAIOptions extends ClientOptions {
  /** The guard every call goes through: an AgentGuard, or the options to create one (local or sidecar mode). */
  guard: AgentGuard | AgentGuardOptions;
  /** A tool call the policy does not allow: `throw` (default) AgentGuardDeniedError, `strip` it, or `annotate` it. */
  toolCalls?: ToolCallMode;
}

/** Token counts by kind: OpenAI's prompt_tokens include the cached ones, which are billed apart. */
export function openAiUsage(completion: Pick<ChatCompletion, 'usage' | 'model'>): TokenUsage | undefined {
  const u = completion.usage;
  if (!u) return undefined;
  const cached = u.prompt_tokens_details?.cached_tokens ?? 0;
  return {
    model: completion.model,
    inputTokens: Math.max(0, u.prompt_tokens - cached),
    outputTokens: u.completion_tokens,
    cacheReadInputTokens: cached,
    reasoningTokens: u.completion_tokens_details?.reasoning_tokens ?? 0,
  };
}

function parseArguments(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text; // decided as { arguments: text }: a policy can still match it
  }
}

/** Decides every tool call of a completion; denied ones throw, are removed or are marked, as `mode` says. */
async function mediateToolCalls(guard: AgentGuard, completion: ChatCompletion, mode: ToolCallMode): Promise<void> {
  for (const choice of completion.choices ?? []) {
    const calls = choice.message?.tool_calls;
    if (!calls || calls.length === 0) continue;
    const kept: ChatCompletionMessageToolCall[] = [];
    for (const call of calls) {
      if (call.type !== 'function') {
        kept.push(call);
        continue;
      }
      const decision: Decision = await decideToolCall(guard, call.function.name, parseArguments(call.function.arguments));
      const allowed = decision.effect === 'allow' || decision.effect === 'transform';
      if (allowed) {
        if (decision.effect === 'transform') call.function.arguments = JSON.stringify(inputToRun(decision, undefined));
        kept.push(call);
      } else if (mode === 'throw') {
        inputToRun(decision, undefined); // throws AgentGuardDeniedError or ApprovalRequiredError
      } else if (mode === 'annotate') {
        Object.assign(call, { agentguard: verdictOf(decision) });
        kept.push(call);
      }
    }
    if (kept.length > 0) choice.message.tool_calls = kept;
    else delete choice.message.tool_calls;
  }
}

type Create = (body: ChatCompletionCreateParams, options?: unknown) => APIPromise<unknown>;

/** Replaces `chat.completions.create` with one that decides before any request and checks what comes back. */
function guardChatCompletions(client: OpenAIClient, module: OpenAIModule, guard: AgentGuard, mode: ToolCallMode, provider: string): void {
  const completions = client.chat.completions;
  const original = completions.create.bind(completions) as unknown as Create;
  const guarded: Create = (body, options) => {
    let inner: APIPromise<unknown> | undefined;
    let decision: Decision | undefined;
    let started = 0;
    const responsePromise = (async () => {
      if (body?.stream) {
        throw new AgentGuardError('STREAM_NOT_GUARDED', 'streaming through GuardedOpenAI is not supported yet, so the request was not sent', {
          actions: ['Call without stream: true, or use the plain OpenAI client behind your own checks until streaming lands.'],
          exitCode: 1,
        });
      }
      const mediated = await mediateRequest(guard, provider, String(body?.model ?? 'unknown'), body);
      decision = mediated.decision;
      started = performance.now();
      inner = original(mediated.request, options);
      try {
        return await (inner as unknown as { responsePromise: Promise<unknown> }).responsePromise;
      } catch (error) {
        await recordCall(guard, decision, started, { error });
        throw error;
      }
    })();
    // Same request, same parsing, same Response: withResponse(), asResponse() and _request_id keep working.
    const parseGuarded = async (c: unknown, props: unknown): Promise<ChatCompletion> => {
      const parse = (inner as unknown as { parseResponse: (c: unknown, p: unknown) => Promise<ChatCompletion> }).parseResponse;
      const completion = await parse(c, props);
      try {
        await mediateToolCalls(guard, completion, mode);
      } catch (error) {
        await recordCall(guard, decision!, started, { error });
        throw error;
      }
      await recordCall(guard, decision!, started, { usage: openAiUsage(completion) });
      return completion;
    };
    return new module.APIPromise(client, responsePromise as never, parseGuarded as never) as APIPromise<unknown>;
  };
  completions.create = guarded as unknown as typeof completions.create;
}

let guardedClass: (new (options: GuardedOpenAIOptions) => OpenAIClient & { readonly guard: AgentGuard }) | undefined;

function buildGuardedOpenAI() {
  const module = loadPeer<OpenAIModule>('openai', 'GuardedOpenAI');
  class GuardedOpenAI extends module.OpenAI {
    readonly guard: AgentGuard;

    constructor(options: GuardedOpenAIOptions) {
      const { guard, toolCalls, ...clientOptions } = options ?? ({} as GuardedOpenAIOptions);
      if (!guard) {
        throw new AgentGuardError('GUARD_REQUIRED', 'GuardedOpenAI needs a `guard`: an AgentGuard or its options', {
          actions: ["new GuardedOpenAI({ guard: { policy: 'agentguard/policy.yaml' } }) or { guard: { sidecar: { url, token } } }"],
          exitCode: 2,
        });
      }
      super(clientOptions);
      this.guard = guard instanceof AgentGuard ? guard : new AgentGuard(guard);
      guardChatCompletions(this, module, this.guard, toolCalls ?? 'throw', 'openai');
    }
  }
  return GuardedOpenAI;
}

/**
 * `new GuardedOpenAI({ ...openAiOptions, guard })`: an OpenAI client (`instanceof OpenAI`) whose
 * `chat.completions.create` is decided by agentguard before any request leaves the process (deny → no request;
 * redactions are what is sent), whose tool calls are decided as tool actions, and whose calls are audited with their
 * token usage. The `openai` package is loaded on first use, so `agentguard/sdk` loads without it. Streaming is
 * refused (not sent) until it is guarded.
 */
export const GuardedOpenAI = new Proxy(function GuardedOpenAI() {} as unknown as new (options: GuardedOpenAIOptions) => OpenAIClient & { readonly guard: AgentGuard }, {
  construct(_target, args) {
    guardedClass ??= buildGuardedOpenAI();
    return Reflect.construct(guardedClass, args) as object;
  },
  get(target, property, receiver) {
    if (property === Symbol.hasInstance) return (value: unknown) => guardedClass !== undefined && value instanceof guardedClass;
    return Reflect.get(target, property, receiver);
  },
});
