import { injectionGuardrail } from './injection/index.js';
import { moderationGuardrail } from './moderation/index.js';
import { openAiModerationGuardrail } from './moderation/openai-adapter.js';
import { piiGuardrail } from './pii/index.js';
import { secretsGuardrail } from './secrets/index.js';
import type { GuardrailFactory } from './types.js';

/**
 * The built-in guardrails by name. Each module is cheap to import: models, word lists and phone metadata load on a
 * guardrail's first use. `openai-moderation` sends text to OpenAI, so it is used only when a policy names it.
 */
export const BUILTIN_GUARDRAILS: ReadonlyMap<string, GuardrailFactory<any>> = new Map(
  [piiGuardrail, secretsGuardrail, injectionGuardrail, moderationGuardrail, openAiModerationGuardrail].map((f) => [f.name, f]),
);

/** ajv's options for checking a guardrail's config, compiled at run time or precompiled (see config-problems.ts). */
export const GUARDRAIL_CONFIG_AJV_OPTIONS = { allErrors: true, strict: false, useDefaults: false } as const;
