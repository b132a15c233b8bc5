import { scanRegex, type Recognizer } from '../recognizer.js';

// 3-2-4 with one separator kind, or the 9 digits bare or split 3-6 / 5-4.
const SSN = /(?<![\p{L}\p{N}.-])(?:\d{3}([- .])\d{2}\1\d{4}|\d{3}-\d{6}|\d{5}-\d{4}|\d{9})(?![\p{L}\p{N}]|[.-]\d)/gu;

/** Numbers never issued or published as examples (Woolworth wallet card, advertising). */
const NEVER_ISSUED = new Set(['078051120', '219099999', '123456789', '111111111', '333333333']);

export function isValidSsn(digits: string): boolean {
  if (!/^\d{9}$/.test(digits) || NEVER_ISSUED.has(digits) || /^(\d)\1{8}$/.test(digits)) return false;
  const area = digits.slice(0, 3);
  return area !== '000' && area !== '666' && area[0] !== '9' && digits.slice(3, 5) !== '00' && digits.slice(5) !== '0000';
}

export const usSsnRecognizer: Recognizer = {
  type: 'US_SSN',
  contextWords: ['ssn', 'ssns', 'ssn#', 'social security', 'social', 'security number', 'ssa', 'ss#', 'ssid'],
  maxSpanLength: 11,
  find(text) {
    return scanRegex(text, SSN, 'US_SSN', (m) => {
      const digits = m[0].replace(/\D/g, '');
      if (!isValidSsn(digits)) return null;
      return m[1] === '-' ? 0.65 : m[1] !== undefined ? 0.4 : 0.3;
    });
  },
};
