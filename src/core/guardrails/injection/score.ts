import { checkDeadline } from '../budget.js';
import type { LinearModel } from '../classifier/linear-model.js';
import { normalizeText } from '../text/normalize.js';
import { ruleScore } from './rules.js';

/** The model's label for injection and jailbreak text. */
export const INJECTION_LABEL = 'injection';

/**
 * Hidden payloads are suspicious in themselves: a decoded payload's score is raised by this
 * much (noisy-OR) before it competes with the plain text's score.
 */
const ENCODED_PAYLOAD_WEIGHT = 0.25;

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
export function scoreNormalized(model: LinearModel, text: string): number {
  if (text.length === 0) return 0;
  const fromModel = modelScore(model, text);
  checkDeadline();
  const rules = ruleScore(text).score;
  return 1 - (1 - fromModel) * (1 - rules);
}

/** Injection score in [0, 1] for raw text: the highest of the text and every decoded payload. */
export function scoreText(model: LinearModel, raw: string): number {
  const { text, decoded } = normalizeText(raw);
  checkDeadline();
  let best = scoreNormalized(model, text);
  for (const payload of decoded) {
    checkDeadline();
    const payloadScore = 1 - (1 - scoreNormalized(model, payload)) * (1 - ENCODED_PAYLOAD_WEIGHT);
    if (payloadScore > best) best = payloadScore;
  }
  return best;
}
