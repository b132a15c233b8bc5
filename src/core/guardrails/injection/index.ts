import { AgentGuardError } from '../../errors.js';
import { LinearModel } from '../classifier/linear-model.js';
import type { DetectOptions, Finding, Guardrail, GuardrailFactory } from '../types.js';
import { INJECTION_LABEL, scoreText } from './score.js';

export { INJECTION_RULES, ruleScore, type InjectionRule } from './rules.js';

export interface InjectionConfig {
  /** Score at or above which the text is reported (the model file's threshold, tuned for precision, when absent). */
  threshold?: number;
  /** Drop findings scoring below this, whatever the threshold. */
  minScore?: number;
}

const NAME = 'injection';

const configSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    threshold: { type: 'number', minimum: 0, maximum: 1 },
    minScore: { type: 'number', minimum: 0, maximum: 1 },
  },
} as const;

let shipped: LinearModel | undefined;
/** The shipped weights, read on first use (models/ sits at the package root, four levels up). */
function shippedModel(): LinearModel {
  shipped ??= LinearModel.load(new URL('../../../../models/injection.json', import.meta.url));
  return shipped;
}

/** Injection score in [0, 1] of raw text with the shipped model (for eval and benches). */
export function injectionScore(text: string): number {
  return scoreText(shippedModel(), text);
}

/** The shipped threshold: the best 5-fold cross-validated F1 with CV precision >= 0.95 (see scripts/train-injection.ts). */
export function defaultInjectionThreshold(): number {
  return shippedModel().thresholds[INJECTION_LABEL];
}

const inUnitRange = (value: unknown) => typeof value === 'number' && Number.isFinite(value) && value >= 0 && value <= 1;

function checkConfig(config: InjectionConfig): void {
  for (const key of ['threshold', 'minScore'] as const) {
    if (config[key] !== undefined && !inUnitRange(config[key])) {
      throw new AgentGuardError('GUARDRAIL_CONFIG_INVALID', `injection guardrail: ${key} must be a number in [0, 1]`, {
        actions: ['Set threshold and minScore between 0 and 1, or leave them out to use the shipped defaults.'],
      });
    }
  }
}

class InjectionGuardrail implements Guardrail {
  readonly name = NAME;
  readonly description = 'Prompt injection and jailbreak detector (rules plus a local model) over normalised and decoded text';
  readonly types = [INJECTION_LABEL] as const;
  readonly maxSpanLength = Number.POSITIVE_INFINITY;

  constructor(
    private readonly config: InjectionConfig,
    private readonly model: LinearModel,
  ) {}

  detect(text: string, options: DetectOptions = {}): Finding[] {
    if (options.types !== undefined && !options.types.includes(INJECTION_LABEL)) return [];
    const score = scoreText(this.model, text);
    const threshold = this.config.threshold ?? this.model.thresholds[INJECTION_LABEL];
    const minScore = Math.max(this.config.minScore ?? 0, options.minScore ?? 0);
    if (score < threshold || score < minScore) return [];
    return [{ guardrail: NAME, type: INJECTION_LABEL, start: 0, end: text.length, score }];
  }
}

export const injectionGuardrail: GuardrailFactory<InjectionConfig> = {
  name: NAME,
  description: 'Flags prompt injection, jailbreaks and instructions hidden in documents or tool output (whole-text score).',
  configSchema,
  create(config: InjectionConfig = {}): Guardrail {
    checkConfig(config);
    const model = shippedModel();
    // Fail closed at creation: a missing or corrupt model throws here, not on the first message.
    model.ensureLoaded();
    if (!model.labels.includes(INJECTION_LABEL)) {
      throw new AgentGuardError('GUARDRAIL_MODEL_INVALID', `injection guardrail: the model has no "${INJECTION_LABEL}" label`, {
        actions: ['Rebuild it with `npx tsx scripts/train-injection.ts`.'],
      });
    }
    return new InjectionGuardrail(config, model);
  },
};
