import type { TokenUsage } from '../../core/cost/types.js';
import type { Usage } from './types.js';

/**
 * The AI SDK's usage (v4: input total, non-cached, cache reads and writes; output total and reasoning) as the ledger
 * counts it: prompt tokens not read from or written to a cache, and the output total, which includes reasoning.
 * Undefined when the provider reported no token counts.
 */
export function tokenUsage(model: string, usage: Usage | undefined): TokenUsage | undefined {
  const input = usage?.inputTokens;
  const output = usage?.outputTokens;
  if (input?.total === undefined && output?.total === undefined) return undefined;
  const cacheRead = input?.cacheRead ?? 0;
  const cacheWrite = input?.cacheWrite ?? 0;
  const fresh = input?.noCache ?? Math.max(0, (input?.total ?? 0) - cacheRead - cacheWrite);
  return {
    model,
    inputTokens: fresh,
    outputTokens: output?.total ?? 0,
    ...(cacheRead ? { cacheReadInputTokens: cacheRead } : {}),
    ...(cacheWrite ? { cacheCreationInputTokens: cacheWrite } : {}),
    ...(output?.reasoning ? { reasoningTokens: output.reasoning } : {}),
  };
}
