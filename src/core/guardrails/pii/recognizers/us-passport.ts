import { scanRegex, type Recognizer } from '../recognizer.js';

// Older books: 9 digits; next generation: one letter and 8 digits.
const PASSPORT = /(?<![\p{L}\p{N}])(?:[A-Za-z]\d{8}|\d{9})(?![\p{L}\p{N}])/gu;

export const usPassportRecognizer: Recognizer = {
  type: 'US_PASSPORT',
  contextWords: ['passport', 'passports', 'travel document', 'travel', 'document'],
  maxSpanLength: 9,
  find: (text) => scanRegex(text, PASSPORT, 'US_PASSPORT', (m) => (/^\d/.test(m[0]) ? 0.25 : 0.25)),
};
