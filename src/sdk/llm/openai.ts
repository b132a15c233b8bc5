import type { AzureOpenAI as AzureOpenAIClient, ClientOptions, OpenAI as OpenAIClient } from 'openai';
import type { AzureClientOptions } from 'openai/azure';
import type { ChatCompletion, ChatCompletionCreateParams, ChatCompletionMessageToolCall } from 'openai/resources/chat/completions';
import type { Decision } from '../../core/action.js';
import { AgentGuardError } from '../../core/errors.js';
import type { TokenUsage } from '../../core/pipeline.js';
import type { AgentGuard, AgentGuardOptions } from '../agent-guard.js';
import { guardedCall } from './guarded-call.js';
import { decideToolCall, inputToRun, resolveGuard, verdictOf, type ToolCallMode } from './mediate.js';
import { lazyClass, loadPeer } from './peer.js';

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

type Create = (body: ChatCompletionCreateParams, options?: unknown) => unknown;

/** Replaces the client's create methods: chat completions are decided and checked; the rest are refused until guarded. */
function guardMethods(client: OpenAIClient, module: OpenAIModule, guard: AgentGuard, mode: ToolCallMode, provider: 'openai' | 'azure', defaultModel?: string): void {
  const completions = client.chat.completions;
  const original = completions.create.bind(completions) as unknown as Create;
  const create: Create = (body, options) =>
    guardedCall<ChatCompletion>(
      {
        guard,
        provider,
        defaultModel,
        ApiPromise: module.APIPromise as never,
        client,
        send: (request) => original(request as unknown as ChatCompletionCreateParams, options),
        check: (completion) => mediateToolCalls(guard, completion, mode),
        usage: openAiUsage,
      },
      body as unknown as Record<string, unknown>,
      provider === 'azure' ? 'GuardedAzureOpenAI' : 'GuardedOpenAI',
    );
  completions.create = create as unknown as typeof completions.create;
  // Not guarded yet: refused rather than sent unchecked (responses.stream and responses.parse call create).
  client.responses.create = ((() => {
    const refused = Promise.reject(notGuarded('responses.create'));
    refused.catch(() => undefined); // rejected for whoever awaits the call, not reported as unhandled
    return new module.APIPromise(client, refused as never, (() => undefined) as never);
  }) as unknown) as typeof client.responses.create;
}

function notGuarded(method: string): AgentGuardError {
  return new AgentGuardError('METHOD_NOT_GUARDED', `GuardedOpenAI does not guard ${method} yet, so the request was not sent`, {
    actions: ['Use chat.completions.create for now.'],
    exitCode: 1,
  });
}

function buildGuardedOpenAI(): new (options: GuardedOpenAIOptions) => OpenAIClient & { readonly guard: AgentGuard } {
  const module = loadPeer<OpenAIModule>('openai', 'GuardedOpenAI');
  class GuardedOpenAI extends module.OpenAI {
    readonly guard: AgentGuard;

    constructor(options: GuardedOpenAIOptions) {
      const { guard, toolCalls, ...clientOptions } = options ?? ({} as GuardedOpenAIOptions);
      const resolved = resolveGuard(guard, 'GuardedOpenAI');
      super(clientOptions);
      this.guard = resolved;
      guardMethods(this, module, resolved, toolCalls ?? 'throw', 'openai');
    }
  }
  return GuardedOpenAI;
}

export interface GuardedAzureOpenAIOptions extends AzureClientOptions {
  guard: AgentGuard | AgentGuardOptions;
  toolCalls?: ToolCallMode;
}

function buildGuardedAzureOpenAI(): new (options: GuardedAzureOpenAIOptions) => AzureOpenAIClient & { readonly guard: AgentGuard } {
  const module = loadPeer<OpenAIModule>('openai', 'GuardedAzureOpenAI');
  class GuardedAzureOpenAI extends module.AzureOpenAI {
    readonly guard: AgentGuard;

    constructor(options: GuardedAzureOpenAIOptions) {
      const { guard, toolCalls, ...clientOptions } = options ?? ({} as GuardedAzureOpenAIOptions);
      const resolved = resolveGuard(guard, 'GuardedAzureOpenAI');
      super(clientOptions);
      this.guard = resolved;
      guardMethods(this, module, resolved, toolCalls ?? 'throw', 'azure', clientOptions.deployment);
    }
  }
  return GuardedAzureOpenAI;
}

/** `new GuardedAzureOpenAI({ ...azureOptions, guard })`: GuardedOpenAI for Azure (`instanceof AzureOpenAI`); actions are named `azure.<model or deployment>`. */
export const GuardedAzureOpenAI = lazyClass('GuardedAzureOpenAI', buildGuardedAzureOpenAI);

/**
 * `new GuardedOpenAI({ ...openAiOptions, guard })`: an OpenAI client (`instanceof OpenAI`) whose
 * `chat.completions.create` is decided by agentguard before any request leaves the process (deny → no request;
 * redactions are what is sent), whose tool calls are decided as tool actions, and whose calls are audited with their
 * token usage. The `openai` package is loaded on first use, so `agentguard/sdk` loads without it. Streaming and
 * `responses.create` are refused (not sent) until they are guarded.
 */
export const GuardedOpenAI = lazyClass('GuardedOpenAI', buildGuardedOpenAI);
