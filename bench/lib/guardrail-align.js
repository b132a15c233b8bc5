/**
 * Span recovery for peers that return a redacted copy of the text instead of positions.
 *
 * The redacted output is the input with some substrings replaced by placeholder tokens. We turn the output into an
 * anchored regular expression: text between placeholders must match the input literally, and each placeholder
 * matches either its own token literally (the input really contained that word, e.g. "URL") or one or more input
 * characters (lazily, so a span never swallows text that the next literal could claim). The characters a placeholder
 * consumed are the redacted span. When the input itself cannot be aligned (the peer changed text outside the
 * placeholders), the function returns null and the caller counts the row as unaligned.
 */

const escapeRegExp = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * `placeholder` is a global RegExp matching placeholder tokens in `redacted`; `typeOf(token)` names the span type
 * (or undefined to drop it). Returns `[{ start, end, type }]` in `original` coordinates, or null when unaligned.
 */
export function spansFromRedacted(original, redacted, placeholder, typeOf) {
  const tokens = [];
  let pattern = '^';
  let last = 0;
  placeholder.lastIndex = 0;
  for (let m = placeholder.exec(redacted); m !== null; m = placeholder.exec(redacted)) {
    if (m[0].length === 0) {
      placeholder.lastIndex++;
      continue;
    }
    pattern += escapeRegExp(redacted.slice(last, m.index));
    pattern += `(?:(${escapeRegExp(m[0])})|([\\s\\S]+?))`;
    tokens.push(m[0]);
    last = m.index + m[0].length;
  }
  // No placeholder means nothing was redacted (a peer may return its input unnormalised then).
  if (tokens.length === 0) return [];
  pattern += `${escapeRegExp(redacted.slice(last))}$`;
  const match = new RegExp(pattern, 'd').exec(original);
  if (match === null) return null;
  const spans = [];
  tokens.forEach((token, k) => {
    const wildcard = match.indices[2 * k + 2];
    if (wildcard === undefined) return; // the token was literal text of the input
    const type = typeOf(token);
    if (type !== undefined) spans.push({ start: wildcard[0], end: wildcard[1], type });
  });
  return spans;
}

/**
 * For peers that redact a normalised copy (NFKC, zero-width characters removed): the normalised text and a function
 * mapping a span in it back to the original (a span that covers part of an expanded character covers all of it).
 * Null when normalising code point by code point does not reproduce normalising the whole text (composition across
 * code points), so no exact map exists.
 */
export function normalisedWithMap(original, normalise) {
  const whole = normalise(original);
  if (whole === original) return { text: original, toOriginal: (span) => span };
  const starts = [];
  const ends = [];
  let rebuilt = '';
  let offset = 0;
  for (const cp of original) {
    const piece = normalise(cp);
    for (let k = 0; k < piece.length; k++) {
      starts.push(offset);
      ends.push(offset + cp.length);
    }
    rebuilt += piece;
    offset += cp.length;
  }
  if (rebuilt !== whole) return null;
  return { text: whole, toOriginal: (span) => ({ ...span, start: starts[span.start], end: ends[span.end - 1] }) };
}
