import { performance } from 'node:perf_hooks';

/**
 * The guardrail work one decision may take, in milliseconds, unless configured otherwise (`guardrails.budgetMs` in
 * agentguard.config.json). Past it the decision is denied with code `guardrail_timeout`: a check that could not finish
 * never passes. Typical texts take well under a millisecond per KB.
 */
export const DEFAULT_GUARDRAIL_BUDGET_MS = 250;

/** Largest budget accepted: a decision that may take minutes is an outage, not a check. */
export const MAX_GUARDRAIL_BUDGET_MS = 60_000;

/** Reason code of a decision denied because its guardrails ran out of budget. */
export const GUARDRAIL_TIMEOUT = 'guardrail_timeout';

/** Thrown when guardrail work runs past its deadline; the rule that asked fails closed with `guardrail_timeout`. */
export class GuardrailTimeoutError extends Error {
  readonly code = 'GUARDRAIL_TIMEOUT';

  constructor(readonly budgetMs: number) {
    super(`the guardrails did not finish within this decision's budget of ${budgetMs} ms`);
    this.name = 'GuardrailTimeoutError';
  }
}

export function isGuardrailTimeout(error: unknown): error is GuardrailTimeoutError {
  return error instanceof GuardrailTimeoutError;
}

// The deadline of the synchronous guardrail work running now. Guardrails are synchronous, so one module-level value is
// enough: nothing else runs on this thread until the work returns or throws.
let deadline = Number.POSITIVE_INFINITY;
let budgetOfDeadline = 0;

/**
 * Throws GuardrailTimeoutError when the guardrail work running now is past its deadline. Long scans call it between
 * steps (recognizers, model phases, blocks of tokens); without a deadline (eval, redaction outside a decision) it never
 * throws. It reads the clock, so call it per block of work, not per character.
 */
export function checkDeadline(): void {
  if (deadline !== Number.POSITIVE_INFINITY && performance.now() > deadline) throw new GuardrailTimeoutError(budgetOfDeadline);
}

/** Runs synchronous guardrail work that must finish within `remainingMs` (of a decision's `budgetMs`). */
export function withDeadline<T>(remainingMs: number, budgetMs: number, work: () => T): T {
  const outer = deadline;
  const outerBudget = budgetOfDeadline;
  deadline = Math.min(outer, performance.now() + remainingMs);
  budgetOfDeadline = deadline === outer ? outerBudget : budgetMs;
  try {
    return work();
  } finally {
    deadline = outer;
    budgetOfDeadline = outerBudget;
  }
}
