import type { TokenUsage } from '../../core/cost/types.js';
import { isPlainObject } from '../../core/plain-object.js';

/** What LangChain tells about a chat model for tracing (`BaseChatModel.getLsParams`), as far as the policy uses it. */
interface LsParams {
  ls_provider?: string;
  ls_model_name?: string;
  ls_max_tokens?: number;
  ls_temperature?: number;
}

export interface ModelIdentity {
  provider: string;
  model: string;
  maxTokens?: number;
  temperature?: number;
}

/**
 * Provider and model of the agent's model: `getLsParams()` of a chat model (`openai`, `gpt-4o-mini`; the names
 * LangSmith traces use), or the `provider:model` string given to createAgent.
 */
export function modelIdentity(model: unknown): ModelIdentity {
  if (typeof model === 'string') {
    const colon = model.indexOf(':');
    return colon > 0 ? { provider: model.slice(0, colon), model: model.slice(colon + 1) } : { provider: 'unknown', model };
  }
  let params: LsParams = {};
  try {
    const read = (model as { getLsParams?: (options: Record<string, unknown>) => LsParams } | null)?.getLsParams;
    if (typeof read === 'function') params = read.call(model, {}) ?? {};
  } catch {
    params = {};
  }
  const fields = (model ?? {}) as { model?: unknown; modelName?: unknown };
  const name = params.ls_model_name ?? (typeof fields.model === 'string' ? fields.model : typeof fields.modelName === 'string' ? fields.modelName : 'unknown');
  return {
    provider: params.ls_provider ?? 'unknown',
    model: name,
    ...(typeof params.ls_max_tokens === 'number' ? { maxTokens: params.ls_max_tokens } : {}),
    ...(typeof params.ls_temperature === 'number' ? { temperature: params.ls_temperature } : {}),
  };
}

/**
 * The identity of the model a request will use. A model given to createAgent as a `"provider:model"` string becomes a
 * ConfigurableModel, whose own tracing params name no provider: its underlying chat model is asked instead, as
 * LangChain does when it binds the tools.
 */
export async function resolveModelIdentity(model: unknown): Promise<ModelIdentity> {
  const configurable = model as { _getModelInstance?: () => Promise<unknown> } | null;
  if (typeof configurable?._getModelInstance === 'function') return modelIdentity(await configurable._getModelInstance());
  return modelIdentity(model);
}

/** LangChain's `usage_metadata` of an AIMessage (input_tokens counts cached and cache-written tokens too). */
interface UsageMetadata {
  input_tokens?: number;
  output_tokens?: number;
  input_token_details?: { cache_read?: number; cache_creation?: number };
  output_token_details?: { reasoning?: number };
}

const count = (value: unknown): number => (typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : 0);

/** The answer's token usage by kind, as the ledger prices it; undefined when the provider reported none. */
export function usageOf(message: { usage_metadata?: unknown; response_metadata?: unknown }, model: string): TokenUsage | undefined {
  if (!isPlainObject(message.usage_metadata)) return undefined;
  const u = message.usage_metadata as UsageMetadata;
  const cacheRead = count(u.input_token_details?.cache_read);
  const cacheWrite = count(u.input_token_details?.cache_creation);
  const reported = isPlainObject(message.response_metadata) ? message.response_metadata.model_name ?? message.response_metadata.model : undefined;
  return {
    model: typeof reported === 'string' && reported !== '' ? reported : model,
    inputTokens: Math.max(0, count(u.input_tokens) - cacheRead - cacheWrite),
    outputTokens: count(u.output_tokens),
    cacheReadInputTokens: cacheRead,
    cacheCreationInputTokens: cacheWrite,
    ...(count(u.output_token_details?.reasoning) > 0 ? { reasoningTokens: count(u.output_token_details?.reasoning) } : {}),
  };
}
