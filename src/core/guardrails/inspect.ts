import { redact } from './redact/index.js';
import type { Finding, Guardrail } from './types.js';

export interface InspectResult {
  /** Every finding, ordered by position, then guardrail. */
  findings: Finding[];
  /** The text with every span finding replaced by `<TYPE>` (whole-text findings, such as injection, leave it as is). */
  redacted: string;
}

/**
 * Runs guardrails on one text and redacts what the span guardrails found. A guardrail that throws makes the whole
 * inspection throw: a check that could not run must never look clean.
 */
export async function inspectText(text: string, guardrails: readonly Guardrail[]): Promise<InspectResult> {
  const results = await Promise.all(guardrails.map((g) => g.detect(text)));
  const findings = results.flat().sort((a, b) => a.start - b.start || a.end - b.end || a.guardrail.localeCompare(b.guardrail));
  const spans = findings.filter((f) => !(f.start === 0 && f.end === text.length && isWholeText(guardrails, f.guardrail)));
  return { findings, redacted: redact(text, spans, { mode: 'replace' }).text };
}

function isWholeText(guardrails: readonly Guardrail[], name: string): boolean {
  return guardrails.find((g) => g.name === name)?.maxSpanLength === Number.POSITIVE_INFINITY;
}
