import type { ClientOptions, Anthropic as AnthropicClient } from '@anthropic-ai/sdk';
import type { Message, RawMessageStreamEvent } from '@anthropic-ai/sdk/resources/messages';
import type { AgentGuard } from '../agent-guard.js';
import { anthropicUsage, checkMessage, gateMessageStream } from './anthropic-messages.js';
import { guardCreate } from './guarded-call.js';
import { clientSettings, type GuardedClientOptions } from './mediate.js';
import { lazyClass, loadPeer } from './peer.js';
import { ANTHROPIC_ENDPOINTS, sealEndpoints } from './endpoints.js';
import { sealRawMethods } from './raw-methods.js';
import { copyOptions } from './copies.js';
import type { ClientSettings } from './mediate.js';

type AnthropicModule = typeof import('@anthropic-ai/sdk');

export interface GuardedAnthropicOptions extends ClientOptions, GuardedClientOptions {}

export { anthropicUsage };

function buildGuardedAnthropic(): new (options: GuardedAnthropicOptions) => AnthropicClient & { readonly guard: AgentGuard } {
  const module = loadPeer<AnthropicModule>('@anthropic-ai/sdk', 'GuardedAnthropic');
  class GuardedAnthropic extends module.Anthropic {
    readonly guard: AgentGuard;
    readonly #settings: ClientSettings;

    constructor(options: GuardedAnthropicOptions) {
      const [settings, clientOptions] = clientSettings(options, 'GuardedAnthropic');
      super(clientOptions);
      this.guard = settings.guard;
      this.#settings = settings;
      // messages.stream() calls create with stream: true, so it is gated the same way.
      const binding = { settings, provider: 'anthropic', ApiPromise: module.APIPromise as never, client: this };
      guardCreate<Message, RawMessageStreamEvent>(this.messages, binding, {
        check: checkMessage,
        gate: gateMessageStream,
        usage: anthropicUsage,
      }, 'GuardedAnthropic.messages');
      // Every other endpoint is decided (messages.countTokens) or refused.
      sealEndpoints(this, binding, ANTHROPIC_ENDPOINTS, 'GuardedAnthropic', 'Anthropic');
      sealRawMethods(this, 'GuardedAnthropic');
    }

    /** A copy with other SDK options is guarded the same way: same guard, same settings. */
    override withOptions(options: Parameters<AnthropicClient['withOptions']>[0]): this {
      return super.withOptions(copyOptions(options, this.#settings, 'GuardedAnthropic') as never) as this;
    }
  }
  return GuardedAnthropic;
}

/**
 * `new GuardedAnthropic({ ...anthropicOptions, guard })`: an Anthropic client (`instanceof Anthropic`) whose
 * `messages.create` and `messages.stream()` are decided by agentguard before any request leaves the process, whose
 * answers (text blocks, streamed or whole) pass the output policy (`kind: "llm_output"`) before the caller sees them,
 * whose tool_use blocks are decided as tool actions, and whose calls are audited with their token usage.
 * `@anthropic-ai/sdk` is loaded on first use.
 */
export const GuardedAnthropic = lazyClass('GuardedAnthropic', buildGuardedAnthropic);
