import { checkDeadline } from '../budget.js';
import { LinearModel } from '../classifier/linear-model.js';
import { MODERATION_CATEGORIES, type ModerationCategory } from './categories.js';
import { prepareTexts } from './prepare.js';
import { ruleScores } from './rules.js';

export type CategoryScores = Record<ModerationCategory, number>;

/** What the model and the hand-written rules said about one text. */
export interface TextScores {
  model: CategoryScores;
  /** Highest matching rule score per category, 0 when no rule matched. */
  rules: CategoryScores;
}

/** Scores of one already-prepared text given the model's label scores. */
export function scorePrepared(model: Record<string, number>, text: string): TextScores {
  const rules = ruleScores(text);
  const out: TextScores = { model: {} as CategoryScores, rules: {} as CategoryScores };
  for (const category of MODERATION_CATEGORIES) {
    out.model[category] = model[category] ?? 0;
    out.rules[category] = rules[category] ?? 0;
  }
  return out;
}

/** Scores for a raw text: the highest over its normal form and any decoded payloads. */
export function scoreText(model: LinearModel, raw: string): TextScores {
  let best: TextScores | undefined;
  for (const text of prepareTexts(raw, model.normalizeOptions)) {
    checkDeadline();
    const scores = scorePrepared(model.scores(text), text);
    if (best === undefined) best = scores;
    else {
      for (const category of MODERATION_CATEGORIES) {
        best.model[category] = Math.max(best.model[category], scores.model[category]);
        best.rules[category] = Math.max(best.rules[category], scores.rules[category]);
      }
    }
  }
  return best!;
}

/**
 * Whether a category is flagged and with what score. With the model's own threshold, a rule
 * match always flags (rules are reviewed, high-precision phrases; the tuned threshold only
 * governs the statistical model). A threshold the user sets applies to the combined score.
 */
export function decide(scores: TextScores, category: ModerationCategory, modelThreshold: number, userThreshold?: number): { flagged: boolean; score: number } {
  const model = scores.model[category];
  const rule = scores.rules[category];
  const score = Math.max(model, rule);
  if (userThreshold !== undefined) return { flagged: score >= userThreshold, score };
  return { flagged: model >= modelThreshold || rule > 0, score };
}
