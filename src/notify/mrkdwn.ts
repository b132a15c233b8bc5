/**
 * Slack mrkdwn escaping. Slack reads `<…>` as a link, user/channel mention or `<!channel>`-style broadcast, and `&` as
 * the start of an entity; escaping these three in every string an agent or a user controls is what Slack documents to
 * keep text from turning into mentions or links.
 */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** A stand-in for the backtick (MODIFIER LETTER GRAVE ACCENT) so text cannot close the code span or block it sits in. */
const BACKTICK_STAND_IN = '\u02CB';

/**
 * Escapes `text` for mrkdwn and cuts it to at most `max` characters of escaped output, never inside an entity or a
 * surrogate pair; appends `…` when cut. `code` also replaces backticks, for text placed inside a code span or block.
 */
export function escapeAndTruncate(text: string, max: number, options: { code?: boolean } = {}): { text: string; truncated: boolean } {
  const pieces = Array.from(text, (ch) => (options.code && ch === '`' ? BACKTICK_STAND_IN : escapeMrkdwn(ch)));
  const whole = pieces.join('');
  if (whole.length <= max) return { text: whole, truncated: false };
  let out = '';
  for (const piece of pieces) {
    if (out.length + piece.length > max - 1) break;
    out += piece;
  }
  return { text: `${out}…`, truncated: true };
}

/** One line of at most `max` characters: runs of whitespace (newlines included) become one space. */
export function oneLine(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  const chars = Array.from(flat);
  return chars.length <= max ? flat : `${chars.slice(0, max - 1).join('')}…`;
}
