import type { ModelProvider } from '@openai/agents';
import type { ClientOptions } from 'openai';
import { AgentGuardError } from '../../core/errors.js';
import { GuardedOpenAI } from '../../sdk/llm/openai.js';
import { loadPeer } from '../../sdk/llm/peer.js';
import { adapterContext, type AdapterOptions } from '../shared/context.js';

type AgentsModule = typeof import('@openai/agents');

export interface GuardedModelProviderOptions extends AdapterOptions {
  /** The OpenAI client's options (apiKey, baseURL, …); the client is GuardedOpenAI on them. */
  openAI?: ClientOptions;
  /** Responses API (the SDK's default) or Chat Completions. */
  useResponses?: boolean;
  /** Streams hold back at least this many characters of text (the policy's longest guardrail span is the floor). */
  holdBack?: number;
}

/**
 * The SDK's OpenAIProvider over a GuardedOpenAI client: every model call the agents make is decided as `kind: "llm"`
 * before it is sent (input guardrails over every message; redactions are what is sent; deny → nothing is sent and
 * the run throws AgentGuardDeniedError), its answer (streamed or whole) passes the output policy before the agent
 * loop sees it, and its token usage is settled in the ledger. Tool calls in answers are left to guardTools, which
 * decides each where it runs. Use it as `new Runner({ modelProvider })` or `run(agent, input, { modelProvider })`.
 */
export function guardedModelProvider(options: GuardedModelProviderOptions): ModelProvider {
  const context = adapterContext(options, 'openai-agents', 'guardedModelProvider');
  if (options.openAI !== undefined && (options.openAI === null || typeof options.openAI !== 'object')) {
    throw new AgentGuardError('GUARD_OPTIONS_INVALID', 'guardedModelProvider: openAI must be the OpenAI client options', { actions: ['Give e.g. { apiKey: process.env.OPENAI_API_KEY }.'] });
  }
  const { OpenAIProvider } = loadPeer<AgentsModule>('@openai/agents', 'agentguard/openai-agents');
  const client = new GuardedOpenAI({ ...(options.openAI ?? {}), guard: options.guard, context, toolCalls: 'defer', ...(options.holdBack !== undefined ? { holdBack: options.holdBack } : {}) });
  return new OpenAIProvider({ openAIClient: client as never, ...(options.useResponses !== undefined ? { useResponses: options.useResponses } : {}) });
}
