import { AgentGuardError } from '../../errors.js';
import type { RedactSpan } from './types.js';

/** One region to redact: the union of overlapping spans, named after the best-scoring of them. */
export interface MergedSpan {
  start: number;
  end: number;
  type: string;
  /** How many input spans were merged into this one. */
  parts: number;
}

function check(span: RedactSpan, length: number): void {
  const { start, end } = span;
  if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end > length || start > end) {
    throw new AgentGuardError('REDACT_SPAN_INVALID', `Cannot redact: span [${String(start)}, ${String(end)}) of type ${String(span.type)} is outside a text of length ${length}.`, {
      actions: ['Pass findings produced for this exact text (start and end are UTF-16 indices, 0 <= start <= end <= text.length).'],
    });
  }
  if (typeof span.type !== 'string' || span.type === '') {
    throw new AgentGuardError('REDACT_SPAN_INVALID', 'Cannot redact: a span has no type.', { actions: ['Give every finding a non-empty type.'] });
  }
}

/**
 * Sorts spans and merges those that overlap (sharing at least one character), so that findings from several
 * guardrails yield well-formed output. Touching spans stay separate. Empty spans are dropped. Pure.
 */
export function mergeSpans(spans: readonly RedactSpan[], textLength: number): MergedSpan[] {
  for (const s of spans) check(s, textLength);
  const sorted = spans.filter((s) => s.end > s.start).sort((a, b) => a.start - b.start || b.end - a.end);
  const out: MergedSpan[] = [];
  let best: RedactSpan | undefined;
  for (const s of sorted) {
    const last = out[out.length - 1];
    if (last && s.start < last.end) {
      last.end = Math.max(last.end, s.end);
      last.parts++;
      if ((s.score ?? 1) > (best!.score ?? 1) || ((s.score ?? 1) === (best!.score ?? 1) && s.end - s.start > best!.end - best!.start)) {
        best = s;
        last.type = s.type;
      }
    } else {
      out.push({ start: s.start, end: s.end, type: s.type, parts: 1 });
      best = s;
    }
  }
  return out;
}
