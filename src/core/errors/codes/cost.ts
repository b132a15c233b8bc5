import { defineErrors } from '../spec.js';

/** Errors of cost accounting and budgets. */
export const COST_ERRORS = defineErrors({
  USAGE_INVALID: {
    status: 422,
    exit: 1,
    meaning: 'Token usage reported for a call is not a valid count (negative, fractional, or inconsistent).',
    fix: 'Report whole token counts of 0 or more, as the provider returned them.',
  },
  AMOUNT_INVALID: {
    status: 400,
    exit: 2,
    meaning: 'A USD amount is not a number agentguard can count.',
    fix: 'Write the amount as a plain decimal number of dollars, e.g. 12.50.',
  },
  COST_OVERFLOW: {
    status: 422,
    exit: 1,
    meaning: 'A cost or budget sum is too large to count exactly.',
    fix: 'Check the token counts and prices involved; they are far beyond any real call.',
  },
  COST_INVALID_INPUT: {
    status: 500,
    exit: 1,
    meaning: 'The cost ledger was given a value it cannot store (a bad date or amount).',
    fix: 'This is a bug in the caller; report it with the message.',
  },
});
