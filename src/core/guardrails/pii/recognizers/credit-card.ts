import { contextLists, hasContext } from '../context.js';
import type { Recognizer } from '../recognizer.js';
import { alignedMatches, digitRuns } from './digit-groups.js';

export function luhnValid(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

/** [first IIN, last IIN (same number of digits), allowed lengths] of the major card networks. */
const IIN_RANGES: readonly [number, number, readonly number[]][] = [
  [4, 4, [13, 16, 19]], // Visa
  [51, 55, [16]], // Mastercard
  [2221, 2720, [16]], // Mastercard 2-series
  [34, 34, [15]], // American Express
  [37, 37, [15]],
  [6011, 6011, [16, 17, 18, 19]], // Discover
  [644, 649, [16, 17, 18, 19]],
  [65, 65, [16, 17, 18, 19]],
  [622126, 622925, [16, 17, 18, 19]],
  [62, 62, [16, 17, 18, 19]], // UnionPay
  [3528, 3589, [16, 17, 18, 19]], // JCB
  [2131, 2131, [15]],
  [1800, 1800, [15]],
  [300, 305, [14, 15, 16, 17, 18, 19]], // Diners Club
  [309, 309, [14, 15, 16, 17, 18, 19]],
  [36, 36, [14, 15, 16, 17, 18, 19]],
  [38, 39, [14, 15, 16, 17, 18, 19]],
  [2200, 2204, [16, 17, 18, 19]], // Mir
  [50, 50, [12, 13, 14, 15, 16, 17, 18, 19]], // Maestro
  [56, 69, [12, 13, 14, 15, 16, 17, 18, 19]],
];

export function knownIin(digits: string): boolean {
  return IIN_RANGES.some(([low, high, lengths]) => {
    const prefix = Number(digits.slice(0, String(low).length));
    return prefix >= low && prefix <= high && lengths.includes(digits.length);
  });
}

export function isCreditCard(digits: string): boolean {
  return /^\d{12,19}$/.test(digits) && !/^(\d)\1+$/.test(digits) && knownIin(digits) && luhnValid(digits);
}

const UNLISTED_PREFIX = 0.6;
const CARD_WORDS = contextLists(['card', 'credit', 'debit', 'visa', 'mastercard', 'amex', 'jcb', 'maestro', 'discover', 'diners']);

export const creditCardRecognizer: Recognizer = {
  type: 'CREDIT_CARD',
  contextWords: ['card', 'credit', 'debit', 'visa', 'mastercard', 'amex', 'jcb', 'maestro', 'cc', 'cvv', 'expiry'],
  maxSpanLength: 19 + 6,
  find(text) {
    return alignedMatches(text, digitRuns(text), 12, 19, (digits, value) => {
      // Only spaces or dashes between groups, and only one kind of them.
      if (value.includes('.') || (value.includes(' ') && value.includes('-'))) return null;
      // Luhn first: nine candidates in ten fail it, and it is plain arithmetic (a long run of digit groups makes
      // several candidates per group, so this check sets the cost per character).
      if (!luhnValid(digits)) return null;
      if (isCreditCard(digits)) return 0.95;
      // Luhn-valid with an unlisted prefix: one random number in ten passes, so a card word must be near.
      return !/^(\d)\1+$/.test(digits) && luhnValid(digits) ? UNLISTED_PREFIX : null;
    })
      .filter((m) => m.score !== UNLISTED_PREFIX || hasContext(text, m.start, m.end, CARD_WORDS.words, CARD_WORDS.phrases))
      .map((m) => ({ type: 'CREDIT_CARD', ...m }));
  },
};
