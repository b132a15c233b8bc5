import { normalizeText } from '../text/normalize.js';

/**
 * The texts the moderation model scores for one input: the normalised text, then any encoded
 * payloads found in it (base64 and the like), so hiding abuse in an encoding does not help.
 * Training uses only the first, so both sides see the same normal form.
 */
export function prepareTexts(raw: string): string[] {
  const { text, decoded } = normalizeText(raw);
  return [text, ...decoded];
}

export function prepareText(raw: string): string {
  return normalizeText(raw).text;
}
