import { scanRegex, type Recognizer } from '../recognizer.js';

const ABA = /(?<![\p{L}\p{N}.-])(?:\d{9}|\d{4}-\d{4}-\d)(?![\p{L}\p{N}]|[.-]\d)/gu;

/** ABA routing number: valid Federal Reserve prefix and the 3-7-1 weighted checksum. */
export function isValidAba(digits: string): boolean {
  if (!/^\d{9}$/.test(digits) || /^(\d)\1{8}$/.test(digits)) return false;
  const prefix = Number(digits.slice(0, 2));
  const prefixOk = prefix <= 12 || (prefix >= 21 && prefix <= 32) || (prefix >= 61 && prefix <= 72) || prefix === 80;
  if (!prefixOk) return false;
  const d = [...digits].map(Number);
  return (3 * (d[0] + d[3] + d[6]) + 7 * (d[1] + d[4] + d[7]) + (d[2] + d[5] + d[8])) % 10 === 0;
}

export const abaRoutingRecognizer: Recognizer = {
  type: 'ABA_ROUTING_NUMBER',
  contextWords: ['aba', 'routing', 'rtn', 'transit', 'bank', 'abartn'],
  maxSpanLength: 11,
  find(text) {
    // One bare 9-digit number in ten passes the checksum by chance: formatted or in context only is high.
    return scanRegex(text, ABA, 'ABA_ROUTING_NUMBER', (m) => (isValidAba(m[0].replace(/\D/g, '')) ? (m[0].includes('-') ? 0.9 : 0.4) : null));
  },
};
