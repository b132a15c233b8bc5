import { MAX_GUARDRAIL_BUDGET_MS } from '../guardrails/budget.js';
import { AgentGuardError } from '../errors.js';

/** The `guardrails` section of agentguard.config.json: how much guardrail work a decision may take, and where it runs. */
export interface GuardrailsConfig {
  /** Milliseconds of guardrail work per decision (default 250); past it the decision is deny `guardrail_timeout`. */
  budgetMs?: number;
  /** Sidecar: worker threads for decisions with large texts (default: one per core beyond the first, 2 to 4). */
  workers?: number;
  /** Sidecar: decisions with at most this many characters of guardrail text stay on the event loop (default 32768). */
  inlineMaxChars?: number;
}

const FIELDS: Record<keyof GuardrailsConfig, { min: number; max: number; integer: boolean; example: string }> = {
  budgetMs: { min: 1, max: MAX_GUARDRAIL_BUDGET_MS, integer: false, example: '"budgetMs": 250' },
  workers: { min: 1, max: 64, integer: true, example: '"workers": 2' },
  inlineMaxChars: { min: 0, max: 64 * 1024 * 1024, integer: true, example: '"inlineMaxChars": 32768' },
};

/** Checks the `guardrails` section (`where` names it in messages); undefined stays undefined. */
export function checkGuardrailsConfig(value: unknown, where: string): GuardrailsConfig | undefined {
  if (value === undefined) return undefined;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new AgentGuardError('CONFIG_INVALID', `${where} must be an object`, { actions: ['Write "guardrails": { "budgetMs": 250 }, or remove it.'] });
  }
  const out: GuardrailsConfig = {};
  for (const [key, v] of Object.entries(value)) {
    const field = FIELDS[key as keyof GuardrailsConfig];
    if (field === undefined) {
      throw new AgentGuardError('CONFIG_INVALID', `${where} has an unknown field "${key}"`, { actions: [`Allowed fields: ${Object.keys(FIELDS).join(', ')}.`] });
    }
    if (typeof v !== 'number' || !Number.isFinite(v) || v < field.min || v > field.max || (field.integer && !Number.isInteger(v))) {
      throw new AgentGuardError('CONFIG_INVALID', `${where}.${key} must be ${field.integer ? 'an integer' : 'a number'} from ${field.min} to ${field.max}`, {
        actions: [`Write for example ${field.example}.`],
      });
    }
    out[key as keyof GuardrailsConfig] = v;
  }
  return out;
}
