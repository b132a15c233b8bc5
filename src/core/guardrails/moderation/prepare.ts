import { normalizeText, type NormalizeOptions } from '../text/normalize.js';

/**
 * The texts the moderation model scores for one input: the normalised text, then any encoded
 * payloads found in it (base64 and the like), so hiding abuse in an encoding does not help.
 * Training uses only the first, so both sides see the same normal form. `options` are the
 * normalisation options the model was trained with (its file's `normalize`).
 */
export function prepareTexts(raw: string, options?: NormalizeOptions): string[] {
  const { text, decoded } = normalizeText(raw, options);
  return [text, ...decoded];
}

export function prepareText(raw: string, options?: NormalizeOptions): string {
  return normalizeText(raw, options).text;
}
