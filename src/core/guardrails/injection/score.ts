import { checkDeadline } from '../budget.js';
import type { LinearModel } from '../classifier/linear-model.js';
import { hiddenFragments } from '../text/hidden.js';
import { normalizeText } from '../text/normalize.js';
import { dataRuleScore, ruleScore } from './rules.js';

/** The model's label for injection and jailbreak text. */
export const INJECTION_LABEL = 'injection';

/**
 * Where a text sits: `message` (what a user or system says to the model) or `data` (what an agent read: a tool or MCP
 * result, a fetched page, a retrieved document, an e-mail). In data, instructions addressed to the model and hidden
 * text count for more, and the model file's data threshold applies (chosen on documents, where benign imperatives
 * such as recipes and requests to a colleague are common).
 */
export type InjectionContext = 'message' | 'data';

/** Key of the data threshold in a model file's `thresholds` (the message threshold is under INJECTION_LABEL). */
export const DATA_THRESHOLD_KEY = `${INJECTION_LABEL}:data`;

/**
 * Hidden payloads are suspicious in themselves: a decoded payload's score is raised by this
 * much (noisy-OR) before it competes with the plain text's score.
 */
const ENCODED_PAYLOAD_WEIGHT = 0.25;

/** Text hidden from a reader (comments, invisible styling, alt text, tag characters) raises its own score by this much. */
const HIDDEN_FRAGMENT_WEIGHT = 0.3;

const SEGMENT_CHARS = 400;

/**
 * Lines and sentences packed into chunks of at most ~400 characters. An instruction planted in
 * a long e-mail or table is one sentence among many; scored alone it is not diluted.
 */
export function segments(text: string): string[] {
  const out: string[] = [];
  let current = '';
  for (const piece of text.split(/\n+|(?<=[.!?])\s+/)) {
    if (piece.trim() === '') continue;
    if (current !== '' && current.length + piece.length + 1 > SEGMENT_CHARS) {
      out.push(current);
      current = '';
    }
    current = current === '' ? piece : `${current} ${piece}`;
  }
  if (current !== '') out.push(current);
  return out;
}

/** Highest model probability over the whole text and, when there are several, its segments. */
export function modelScore(model: LinearModel, text: string): number {
  const parts = segments(text);
  if (parts.length <= 1) return model.scores(text)[INJECTION_LABEL];
  const scored = model.scoresOfParts(parts);
  let best = scored.whole[INJECTION_LABEL];
  for (const part of scored.parts) best = Math.max(best, part[INJECTION_LABEL]);
  return best;
}

/** Model probability and rule noisy-OR for one already-normalised text, combined by noisy-OR. */
export function scoreNormalized(model: LinearModel, text: string, context: InjectionContext = 'message'): number {
  if (text.length === 0) return 0;
  const fromModel = modelScore(model, text);
  checkDeadline();
  const rules = context === 'data' ? 1 - (1 - ruleScore(text).score) * (1 - dataRuleScore(text).score) : ruleScore(text).score;
  return 1 - (1 - fromModel) * (1 - rules);
}

/**
 * Injection score in [0, 1] for raw text: the highest of the text, every decoded payload and every hidden fragment
 * (the last two raised for being hidden).
 */
export function scoreText(model: LinearModel, raw: string, context: InjectionContext = 'message'): number {
  const options = model.normalizeOptions;
  const { text, decoded } = normalizeText(raw, options);
  checkDeadline();
  let best = scoreNormalized(model, text, context);
  const raise = (payload: string, weight: number) => {
    checkDeadline();
    const payloadScore = 1 - (1 - scoreNormalized(model, payload, context)) * (1 - weight);
    if (payloadScore > best) best = payloadScore;
  };
  for (const payload of decoded) raise(payload, ENCODED_PAYLOAD_WEIGHT);
  for (const fragment of hiddenFragments(raw)) {
    const normalized = normalizeText(fragment, options).text;
    // A short label ("company logo") is not an instruction: only fragments of a few words are raised.
    if (normalized.split(' ').length >= 4) raise(normalized, HIDDEN_FRAGMENT_WEIGHT);
  }
  return best;
}

/** The threshold for a context: the data threshold when the model file has one, else the message threshold. */
export function thresholdFor(model: LinearModel, context: InjectionContext): number {
  const thresholds = model.thresholds;
  return context === 'data' ? (thresholds[DATA_THRESHOLD_KEY] ?? thresholds[INJECTION_LABEL]) : thresholds[INJECTION_LABEL];
}
