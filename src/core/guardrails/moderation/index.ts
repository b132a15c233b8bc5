import { AgentGuardError } from '../../errors.js';
import { LinearModel } from '../classifier/linear-model.js';
import type { DetectOptions, Finding, Guardrail, GuardrailFactory } from '../types.js';
import { isModerationCategory, MODERATION_CATEGORIES, type ModerationCategory } from './categories.js';
import { decide, scoreText } from './model.js';

export { MODERATION_CATEGORIES, type ModerationCategory } from './categories.js';
export { openAiModerationGuardrail, type OpenAiModerationConfig } from './openai-adapter.js';

export interface ModerationConfig {
  /** Categories to report (all seven when absent). */
  categories?: ModerationCategory[];
  /** Per-category score at or above which a finding is reported (the model's tuned thresholds when absent). */
  thresholds?: Partial<Record<ModerationCategory, number>>;
  /** Drop findings scoring below this, whatever the threshold. */
  minScore?: number;
}

const NAME = 'moderation';

const configSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    categories: { type: 'array', items: { enum: [...MODERATION_CATEGORIES] }, uniqueItems: true, minItems: 1 },
    thresholds: {
      type: 'object',
      additionalProperties: false,
      properties: Object.fromEntries(MODERATION_CATEGORIES.map((c) => [c, { type: 'number', minimum: 0, maximum: 1 }])),
    },
    minScore: { type: 'number', minimum: 0, maximum: 1 },
  },
} as const;

let shipped: LinearModel | undefined;
/** The shipped weights, read on first use (models/ sits at the package root, four levels up). */
function shippedModel(): LinearModel {
  shipped ??= LinearModel.load(new URL('../../../../models/moderation.json', import.meta.url));
  return shipped;
}

function badConfig(message: string): AgentGuardError {
  return new AgentGuardError('GUARDRAIL_CONFIG_INVALID', `moderation guardrail: ${message}`, {
    actions: [`Use categories from: ${MODERATION_CATEGORIES.join(', ')}; thresholds and minScore between 0 and 1.`],
  });
}

const inUnitRange = (value: unknown) => typeof value === 'number' && Number.isFinite(value) && value >= 0 && value <= 1;

function checkConfig(config: ModerationConfig): void {
  for (const category of config.categories ?? []) if (!isModerationCategory(category)) throw badConfig(`unknown category "${String(category)}"`);
  for (const [category, value] of Object.entries(config.thresholds ?? {})) {
    if (!isModerationCategory(category)) throw badConfig(`threshold for unknown category "${category}"`);
    if (!inUnitRange(value)) throw badConfig(`threshold for "${category}" must be a number in [0, 1]`);
  }
  if (config.minScore !== undefined && !inUnitRange(config.minScore)) throw badConfig('minScore must be a number in [0, 1]');
}

class ModerationGuardrail implements Guardrail {
  readonly name = NAME;
  readonly description = 'Local classifier for hate, harassment, sexual, sexual/minors, self-harm, violence and violence/graphic';
  readonly types: readonly ModerationCategory[];
  readonly maxSpanLength = Number.POSITIVE_INFINITY;
  private prepared = false;

  constructor(
    private readonly config: ModerationConfig,
    private readonly model: LinearModel,
  ) {
    this.types = config.categories ?? MODERATION_CATEGORIES;
  }

  /** Reads and checks the model file (once); a missing or corrupt model throws here, so the asking rule fails closed. */
  prepare(): void {
    if (this.prepared) return;
    this.model.ensureLoaded();
    const missing = MODERATION_CATEGORIES.filter((category) => !this.model.labels.includes(category));
    if (missing.length > 0) {
      throw new AgentGuardError('GUARDRAIL_MODEL_INVALID', `moderation guardrail: the model has no ${missing.map((c) => `"${c}"`).join(', ')} label`, {
        actions: ['Rebuild it with `npm run train:moderation`.'],
      });
    }
    this.prepared = true;
  }

  detect(text: string, options: DetectOptions = {}): Finding[] {
    this.prepare();
    const scores = scoreText(this.model, text);
    const modelThresholds = this.model.thresholds;
    const minScore = Math.max(this.config.minScore ?? 0, options.minScore ?? 0);
    const findings: Finding[] = [];
    for (const category of this.types) {
      if (options.types !== undefined && !options.types.includes(category)) continue;
      const { flagged, score } = decide(scores, category, modelThresholds[category], this.config.thresholds?.[category]);
      if (flagged && score >= minScore) findings.push({ guardrail: NAME, type: category, start: 0, end: text.length, score });
    }
    return findings;
  }
}

/** Builds the guardrail on a given model (the shipped one unless a caller supplies another). */
export function createModerationGuardrail(config: ModerationConfig = {}, model: LinearModel = shippedModel()): Guardrail {
  checkConfig(config);
  return new ModerationGuardrail(config, model);
}

/**
 * Local content moderation: a linear model over hashed word and character n-grams trained on
 * shippable public data (models/moderation.json), plus hand-written rules for thin categories.
 * One whole-text finding per category at or above its threshold.
 */
export const moderationGuardrail: GuardrailFactory<ModerationConfig> = {
  name: NAME,
  description: 'Local content moderation (hate, harassment, sexual, sexual/minors, self-harm, violence, violence/graphic)',
  configSchema,
  // The model is read on first use (prepare, which the pipeline calls outside the guardrail budget, or detect), not
  // here: a process whose decisions never reach this guardrail does not pay for reading it.
  create: (config) => createModerationGuardrail(config ?? {}),
};
