import { OPENAI_MODERATION_TYPES } from './moderation/openai-adapter.js';
import { BUILTIN_GUARDRAILS } from './registry.js';

/** Guardrails that send text to a third party (never created just to be described), with the types they report. */
const REMOTE: ReadonlyMap<string, readonly string[]> = new Map([['openai-moderation', OPENAI_MODERATION_TYPES]]);

/** What `guardrails list` shows for each built-in: local ones are created with their defaults to read their types. */
export function describeBuiltinGuardrails() {
  return [...BUILTIN_GUARDRAILS.values()].map((factory) => {
    const remoteTypes = REMOTE.get(factory.name);
    const instance = remoteTypes ? undefined : factory.create({});
    return {
      name: factory.name,
      description: factory.description,
      scope: !instance || instance.maxSpanLength === Number.POSITIVE_INFINITY ? ('text' as const) : ('span' as const),
      remote: remoteTypes !== undefined,
      types: [...(instance?.types ?? remoteTypes ?? [])],
      configSchema: factory.configSchema,
    };
  });
}
