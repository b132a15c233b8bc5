import { AgentGuardError } from '../../core/errors.js';
import type { ClientSettings, GuardedClientOptions } from './mediate.js';

const GUARD_KEYS: ReadonlyArray<keyof GuardedClientOptions> = ['guard', 'toolCalls', 'restoreRedactions', 'holdBack', 'context'];

/**
 * The options of `withOptions(options)` on a guarded client: the SDK builds the copy with `new this.constructor(...)`,
 * so the copy gets the same guard and settings. Changing them on a copy is refused (build a new guarded client).
 * `base`: constructor options the SDK's copy would lose (AzureOpenAI's apiVersion, deployment and endpoint).
 */
export function copyOptions(options: object | undefined, settings: ClientSettings, clientName: string, base: object = {}): Record<string, unknown> {
  for (const key of GUARD_KEYS) {
    if (options && key in options) {
      throw new AgentGuardError('GUARD_OPTIONS_INVALID', `${clientName}.withOptions: "${key}" cannot change on a copy of a guarded client`, {
        actions: [`Create a new ${clientName}({ ..., ${key} }) instead.`],
      });
    }
  }
  const { guard, toolCalls, restoreRedactions, holdBack, context } = settings;
  return { ...base, ...(options ?? {}), guard, toolCalls, restoreRedactions, holdBack, ...(context ? { context } : {}) };
}
