import type { AzureOpenAI as AzureOpenAIClient, ClientOptions, OpenAI as OpenAIClient } from 'openai';
import type { AzureClientOptions } from 'openai/azure';
import type { ChatCompletion, ChatCompletionChunk } from 'openai/resources/chat/completions';
import type { Response, ResponseStreamEvent } from 'openai/resources/responses/responses';
import type { AgentGuard } from '../agent-guard.js';
import { guardCreate } from './guarded-call.js';
import { clientSettings, type ClientSettings, type GuardedClientOptions } from './mediate.js';
import { checkCompletion, gateChatStream, openAiUsage, withStreamUsage } from './openai-chat.js';
import { checkResponse, gateResponseStream, responsesUsage } from './openai-responses.js';
import { lazyClass, loadPeer } from './peer.js';
import { OPENAI_ENDPOINTS, sealEndpoints } from './endpoints.js';
import { sealRawMethods, withholdApiKey } from './raw-methods.js';
import { markToolRunners } from './tool-runners.js';
import { copyOptions } from './copies.js';

type OpenAIModule = typeof import('openai');

export interface GuardedOpenAIOptions extends ClientOptions, GuardedClientOptions {}

export { openAiUsage, responsesUsage };

/** Replaces the client's create methods (chat completions and responses): decided before sending, answers checked. */
function guardMethods(client: OpenAIClient, module: OpenAIModule, settings: ClientSettings, provider: 'openai' | 'azure', defaultModel?: string): void {
  const binding = { settings, provider, defaultModel, ApiPromise: module.APIPromise as never, client };
  const callerWantsUsage = (body: Record<string, unknown>) => (body.stream_options as { include_usage?: boolean } | undefined)?.include_usage === true;
  const clientName = provider === 'azure' ? 'GuardedAzureOpenAI' : 'GuardedOpenAI';
  guardCreate<ChatCompletion, ChatCompletionChunk>(client.chat.completions, binding, {
    streamRequest: withStreamUsage,
    check: checkCompletion,
    gate: (source, ctx, body) => gateChatStream(source, ctx, callerWantsUsage(body)),
    usage: openAiUsage,
  }, `${clientName}.chat.completions`);
  // responses.stream() and responses.parse() call create, so they are guarded too.
  guardCreate<Response, ResponseStreamEvent>(client.responses, binding, { check: checkResponse, gate: gateResponseStream, usage: responsesUsage }, `${clientName}.responses`);
  markToolRunners(client, ['chat.completions.runTools', 'beta.chat.completions.runTools']);
  // Every other endpoint is decided (embeddings, moderations, legacy completions, input token counts) or refused.
  sealEndpoints(client, binding, OPENAI_ENDPOINTS, clientName, provider === 'azure' ? 'AzureOpenAI' : 'OpenAI');
  sealRawMethods(client, clientName);
  withholdApiKey(client, clientName);
}

export interface GuardedAzureOpenAIOptions extends AzureClientOptions, GuardedClientOptions {}

/**
 * The guarded subclass of the SDK's OpenAI or AzureOpenAI class: the guard options are taken out, the rest go to the
 * SDK's constructor, and the create methods are replaced. Azure names actions after the deployment when the request
 * names no model.
 */
function buildGuarded<O extends GuardedClientOptions, C extends OpenAIClient>(name: string, provider: 'openai' | 'azure', base: (module: OpenAIModule) => new (options: Omit<O, keyof GuardedClientOptions>) => C): new (options: O) => C & { readonly guard: AgentGuard } {
  const module = loadPeer<OpenAIModule>('openai', name);
  const Base = base(module) as new (options: Omit<O, keyof GuardedClientOptions>) => OpenAIClient;
  const Guarded = class extends Base {
    readonly guard: AgentGuard;
    readonly #settings: ClientSettings;
    readonly #clientOptions: object;

    constructor(options: O) {
      const [settings, clientOptions] = clientSettings(options, name);
      super(clientOptions);
      this.guard = settings.guard;
      this.#settings = settings;
      this.#clientOptions = clientOptions;
      guardMethods(this, module, settings, provider, (clientOptions as { deployment?: string }).deployment);
    }

    /** A copy with other SDK options is guarded the same way: same guard, same settings. */
    override withOptions(options: Parameters<OpenAIClient['withOptions']>[0]): this {
      // The constructor's own baseURL (or none: AzureOpenAI's endpoint), not the one the SDK resolved from it.
      const base = { ...this.#clientOptions, baseURL: (this.#clientOptions as { baseURL?: string }).baseURL };
      return super.withOptions(copyOptions(options, this.#settings, name, base) as never) as this;
    }
  };
  Object.defineProperty(Guarded, 'name', { value: name });
  return Guarded as unknown as new (options: O) => C & { readonly guard: AgentGuard };
}

/** `new GuardedAzureOpenAI({ ...azureOptions, guard })`: GuardedOpenAI for Azure (`instanceof AzureOpenAI`); actions are named `azure.<model or deployment>`. */
export const GuardedAzureOpenAI = lazyClass('GuardedAzureOpenAI', () => buildGuarded<GuardedAzureOpenAIOptions, AzureOpenAIClient>('GuardedAzureOpenAI', 'azure', (m) => m.AzureOpenAI));

/**
 * `new GuardedOpenAI({ ...openAiOptions, guard })`: an OpenAI client (`instanceof OpenAI`) whose
 * `chat.completions.create` is decided by agentguard before any request leaves the process (deny → no request;
 * redactions are what is sent), whose answers, streamed or whole, pass the output policy (`kind: "llm_output"`)
 * before the caller sees them, whose tool calls are decided as tool actions, and whose calls are audited with their
 * token usage. The `openai` package is loaded on first use, so `agentguard/sdk` loads without it.
 */
export const GuardedOpenAI = lazyClass('GuardedOpenAI', () => buildGuarded<GuardedOpenAIOptions, OpenAIClient>('GuardedOpenAI', 'openai', (m) => m.OpenAI));
