import { scanRegex, type Recognizer } from '../recognizer.js';

const BANK = /(?<![\p{L}\p{N}.-])\d{8,17}(?![\p{L}\p{N}]|[.-]\d)/gu;

export const usBankNumberRecognizer: Recognizer = {
  type: 'US_BANK_NUMBER',
  contextWords: ['bank', 'account', 'acct', 'checking', 'savings', 'debit', 'deposit', 'beneficiary'],
  maxSpanLength: 17,
  // No checksum exists: any 8-17 digit number could be one, so without context words it stays below 0.5.
  find: (text) => scanRegex(text, BANK, 'US_BANK_NUMBER', (m) => (/^(\d)\1+$/.test(m[0]) ? null : 0.25)),
};
