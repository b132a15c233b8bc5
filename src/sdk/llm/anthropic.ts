import type { ClientOptions, Anthropic as AnthropicClient } from '@anthropic-ai/sdk';
import type { Message, MessageCreateParams } from '@anthropic-ai/sdk/resources/messages';
import type { TokenUsage } from '../../core/pipeline.js';
import type { AgentGuard, AgentGuardOptions } from '../agent-guard.js';
import { guardedCall } from './guarded-call.js';
import { decideToolCall, inputToRun, resolveGuard, verdictOf, type ToolCallMode } from './mediate.js';
import { lazyClass, loadPeer } from './peer.js';

type AnthropicModule = typeof import('@anthropic-ai/sdk');

export interface GuardedAnthropicOptions extends ClientOptions {
  /** The guard every call goes through: an AgentGuard, or the options to create one (local or sidecar mode). */
  guard: AgentGuard | AgentGuardOptions;
  /** A tool_use block the policy does not allow: `throw` (default) AgentGuardDeniedError, `strip` it, or `annotate` it. */
  toolCalls?: ToolCallMode;
}

/** Token counts by kind: Anthropic's input_tokens exclude cache reads and writes, which are billed apart. */
export function anthropicUsage(message: Pick<Message, 'usage' | 'model'>): TokenUsage | undefined {
  const u = message.usage;
  if (!u) return undefined;
  return {
    model: message.model,
    inputTokens: u.input_tokens,
    outputTokens: u.output_tokens,
    cacheReadInputTokens: u.cache_read_input_tokens ?? 0,
    cacheCreationInputTokens: u.cache_creation_input_tokens ?? 0,
  };
}

/** Decides every tool_use block; denied ones throw, are removed or are marked, as `mode` says. */
async function mediateToolUse(guard: AgentGuard, message: Message, mode: ToolCallMode): Promise<void> {
  if (!Array.isArray(message.content)) return;
  const kept: Message['content'] = [];
  for (const block of message.content) {
    if (block.type !== 'tool_use') {
      kept.push(block);
      continue;
    }
    const decision = await decideToolCall(guard, block.name, block.input);
    if (decision.effect === 'allow' || decision.effect === 'transform') {
      if (decision.effect === 'transform') block.input = inputToRun(decision, block.input);
      kept.push(block);
    } else if (mode === 'throw') {
      inputToRun(decision, undefined); // throws AgentGuardDeniedError or ApprovalRequiredError
    } else if (mode === 'annotate') {
      kept.push(Object.assign(block, { agentguard: verdictOf(decision) }));
    }
  }
  message.content = kept;
}

type Create = (body: MessageCreateParams, options?: unknown) => unknown;

function buildGuardedAnthropic(): new (options: GuardedAnthropicOptions) => AnthropicClient & { readonly guard: AgentGuard } {
  const module = loadPeer<AnthropicModule>('@anthropic-ai/sdk', 'GuardedAnthropic');
  class GuardedAnthropic extends module.Anthropic {
    readonly guard: AgentGuard;

    constructor(options: GuardedAnthropicOptions) {
      const { guard, toolCalls, ...clientOptions } = options ?? ({} as GuardedAnthropicOptions);
      const resolved = resolveGuard(guard, 'GuardedAnthropic');
      super(clientOptions);
      this.guard = resolved;
      const messages = this.messages;
      const original = messages.create.bind(messages) as unknown as Create;
      const mode = toolCalls ?? 'throw';
      const create: Create = (body, requestOptions) =>
        guardedCall<Message>(
          {
            guard: this.guard,
            provider: 'anthropic',
            ApiPromise: module.APIPromise as never,
            client: this,
            send: (request) => original(request as unknown as MessageCreateParams, requestOptions),
            check: (message) => mediateToolUse(this.guard, message, mode),
            usage: anthropicUsage,
          },
          body as unknown as Record<string, unknown>,
          'GuardedAnthropic',
        );
      // messages.stream() calls create with stream: true, so it is refused there too.
      messages.create = create as unknown as typeof messages.create;
    }
  }
  return GuardedAnthropic;
}

/**
 * `new GuardedAnthropic({ ...anthropicOptions, guard })`: an Anthropic client (`instanceof Anthropic`) whose
 * `messages.create` is decided by agentguard before any request leaves the process, whose tool_use blocks are decided
 * as tool actions, and whose calls are audited with their token usage. `@anthropic-ai/sdk` is loaded on first use.
 * Streaming (`stream: true`, `messages.stream()`) is refused (not sent) until it is guarded.
 */
export const GuardedAnthropic = lazyClass('GuardedAnthropic', buildGuardedAnthropic);
