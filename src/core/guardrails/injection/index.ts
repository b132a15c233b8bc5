import { AgentGuardError } from '../../errors.js';
import { LinearModel } from '../classifier/linear-model.js';
import type { DetectOptions, Finding, Guardrail, GuardrailFactory } from '../types.js';
import { INJECTION_LABEL, scoreText, thresholdFor, type InjectionContext } from './score.js';

export { DATA_RULES, INJECTION_RULES, dataRuleScore, ruleScore, type InjectionRule } from './rules.js';
export type { InjectionContext } from './score.js';

export interface InjectionConfig {
  /** Score at or above which the text is reported (the model file's threshold, tuned for precision, when absent). */
  threshold?: number;
  /** Drop findings scoring below this, whatever the threshold. */
  minScore?: number;
  /** Score at or above which a text read as data (tool results, documents) is reported (default: the model's data threshold). */
  dataThreshold?: number;
  /** Read every text as a `message` (default) or as `data` an agent read; a policy's `detect: { as }` sets this per rule. */
  as?: InjectionContext;
}

const NAME = 'injection';

const configSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    threshold: { type: 'number', minimum: 0, maximum: 1 },
    minScore: { type: 'number', minimum: 0, maximum: 1 },
    dataThreshold: { type: 'number', minimum: 0, maximum: 1 },
    as: { enum: ['message', 'data'] },
  },
} as const;

let shipped: LinearModel | undefined;
/** The shipped weights, read on first use (models/ sits at the package root, four levels up). */
function shippedModel(): LinearModel {
  shipped ??= LinearModel.load(new URL('../../../../models/injection.json', import.meta.url));
  return shipped;
}

/** Injection score in [0, 1] of raw text with the shipped model, as a message or as data (for eval and benches). */
export function injectionScore(text: string, context: InjectionContext = 'message'): number {
  return scoreText(shippedModel(), text, context);
}

/** The shipped threshold for a context (see scripts/train-injection.ts for how each is chosen). */
export function defaultInjectionThreshold(context: InjectionContext = 'message'): number {
  return thresholdFor(shippedModel(), context);
}

const inUnitRange = (value: unknown) => typeof value === 'number' && Number.isFinite(value) && value >= 0 && value <= 1;

function checkConfig(config: InjectionConfig): void {
  for (const key of ['threshold', 'minScore', 'dataThreshold'] as const) {
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
  readonly contextAware = true;

  private prepared = false;

  constructor(
    private readonly config: InjectionConfig,
    private readonly model: LinearModel,
  ) {}

  /** Reads and checks the model file (once); a missing or corrupt model throws here, so the asking rule fails closed. */
  prepare(): void {
    if (this.prepared) return;
    this.model.ensureLoaded();
    if (!this.model.labels.includes(INJECTION_LABEL)) {
      throw new AgentGuardError('GUARDRAIL_MODEL_INVALID', `injection guardrail: the model has no "${INJECTION_LABEL}" label`, {
        actions: ['Rebuild it with `npm run train:injection`.'],
      });
    }
    this.prepared = true;
  }

  detect(text: string, options: DetectOptions = {}): Finding[] {
    this.prepare();
    if (options.types !== undefined && !options.types.includes(INJECTION_LABEL)) return [];
    const context: InjectionContext = (options.context ?? this.config.as) === 'data' ? 'data' : 'message';
    const score = scoreText(this.model, text, context);
    const threshold = context === 'data' ? (this.config.dataThreshold ?? thresholdFor(this.model, 'data')) : (this.config.threshold ?? thresholdFor(this.model, 'message'));
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
    // The model is read on first use (prepare or detect), not here: a process whose decisions never reach this
    // guardrail (a coding agent's hook deciding a shell command) does not pay for reading it.
    return new InjectionGuardrail(config, shippedModel());
  },
};
