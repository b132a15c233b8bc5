import type { Reason } from '../../action.js';
import type { Expectation, Location } from '../testing/types.js';

/** `file:line:column`, or the file alone when the position is unknown. */
export function locationOf(file: string, at: Location): string {
  return at.line ? `${file}:${at.line}:${at.column ?? 1}` : file;
}

/** `no-destructive-sql (deny): Destructive SQL is not allowed`; a reason without a rule shows its code, e.g. `<default>`. */
export function formatReason(reason: Reason): string {
  return `${reason.rule ?? `<${reason.code ?? 'no rule'}>`} (${reason.effect}): ${reason.message}`;
}

/** `effect deny, rule no-destructive-sql, action {"input":{"readOnly":true}}` */
export function formatExpectation(expect: Expectation): string {
  const parts: string[] = [];
  if (expect.effect !== undefined) parts.push(`effect ${expect.effect}`);
  if (expect.rule !== undefined) parts.push(Array.isArray(expect.rule) ? `rules ${expect.rule.join(', ')}` : `rule ${expect.rule}`);
  if (expect.action !== undefined) parts.push(`action ${JSON.stringify(expect.action)}`);
  return parts.join(', ');
}

/** The failure sentence shown for a failed case (its `message` in JSON output). */
export function failureMessage(failures: readonly string[]): string {
  return failures.join('; ');
}
