import type { Candidate, Recognizer } from '../recognizer.js';

/** IBAN length per country (ISO 13616 registry). */
const IBAN_LENGTH: Readonly<Record<string, number>> = {
  AD: 24, AE: 23, AL: 28, AT: 20, AZ: 28, BA: 20, BE: 16, BG: 22, BH: 22, BI: 27, BR: 29, BY: 28, CH: 21, CR: 22,
  CY: 28, CZ: 24, DE: 22, DJ: 27, DK: 18, DO: 28, EE: 20, EG: 29, ES: 24, FI: 18, FK: 18, FO: 18, FR: 27, GB: 22,
  GE: 22, GI: 23, GL: 18, GR: 27, GT: 28, HN: 28, HR: 21, HU: 28, IE: 22, IL: 23, IQ: 23, IS: 26, IT: 27, JO: 30,
  KW: 30, KZ: 20, LB: 28, LC: 32, LI: 21, LT: 20, LU: 20, LV: 21, LY: 25, MC: 27, MD: 24, ME: 22, MK: 19, MN: 20,
  MR: 27, MT: 31, MU: 30, NI: 28, NL: 18, NO: 15, OM: 23, PK: 24, PL: 28, PS: 29, PT: 25, QA: 29, RO: 24, RS: 22,
  RU: 33, SA: 24, SC: 31, SD: 18, SE: 24, SI: 19, SK: 24, SM: 27, SO: 23, ST: 25, SV: 28, TL: 23, TN: 24, TR: 26,
  UA: 29, VA: 22, VG: 24, XK: 20, YE: 30,
};

/** ISO 7064 mod 97-10 over the rearranged IBAN (letters as 10..35). */
export function ibanChecksumValid(iban: string): boolean {
  const rearranged = iban.slice(4) + iban.slice(0, 4);
  let remainder = 0;
  for (const ch of rearranged) {
    const code = ch.charCodeAt(0);
    const value = code <= 57 ? code - 48 : code - 55;
    remainder = value > 9 ? (remainder * 100 + value) % 97 : (remainder * 10 + value) % 97;
  }
  return remainder === 1;
}

export function isValidIban(value: string): boolean {
  const iban = value.replace(/[ -]/g, '').toUpperCase();
  const length = IBAN_LENGTH[iban.slice(0, 2)];
  return length !== undefined && iban.length === length && /^[A-Z]{2}\d{2}[A-Z0-9]+$/.test(iban) && ibanChecksumValid(iban);
}

const START = /(?<![\p{L}\p{N}])([A-Za-z]{2}) ?(\d{2})/gu;
const ALNUM = /[A-Za-z0-9]/;

export const ibanRecognizer: Recognizer = {
  type: 'IBAN_CODE',
  contextWords: ['iban', 'bank', 'account', 'transfer', 'swift', 'bic'],
  maxSpanLength: 34 + 9,
  find(text) {
    const out: Candidate[] = [];
    START.lastIndex = 0;
    for (let m = START.exec(text); m !== null; m = START.exec(text)) {
      const length = IBAN_LENGTH[m[1].toUpperCase()];
      if (length === undefined) continue;
      // Collect the remaining characters, allowing one space or dash between them.
      let i = m.index + m[0].length;
      let collected = m[1] + m[2];
      while (collected.length < length && i < text.length) {
        if (ALNUM.test(text[i])) collected += text[i++];
        else if ((text[i] === ' ' || text[i] === '-' || text[i] === '.') && ALNUM.test(text[i + 1] ?? '')) i++;
        else break;
      }
      if (collected.length !== length) continue;
      // Glued to more characters, or followed by another digit group: a longer number, not this IBAN.
      if (ALNUM.test(text[i] ?? '') || (/[ .-]/.test(text[i] ?? '') && /\d/.test(text[i + 1] ?? '') && /[ -]/.test(text.slice(m.index, i)))) continue;
      // Mixed-case letters ("LV80 bANK") are a typo or not an IBAN.
      const letters = collected.replace(/[^A-Za-z]/g, '');
      if (letters !== letters.toUpperCase() && letters !== letters.toLowerCase()) continue;
      if (!isValidIban(collected)) continue;
      out.push({ type: 'IBAN_CODE', start: m.index, end: i, score: 0.95 });
      START.lastIndex = i;
    }
    return out;
  },
};
