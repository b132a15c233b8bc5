import { createRequire } from 'node:module';
import { AgentGuardError } from '../../../errors.js';
import { scanRegex, type Recognizer } from '../recognizer.js';

type CountryCode = string;
interface PhoneLib {
  parsePhoneNumberFromString(text: string, defaultCountry?: CountryCode): { isValid(): boolean } | undefined;
  isSupportedCountry(code: string): boolean;
}

let phoneLib: PhoneLib | undefined;

/** libphonenumber-js with full metadata, loaded on first use (it is ~150 KB of metadata). */
export function loadPhoneLib(): PhoneLib {
  if (phoneLib === undefined) {
    try {
      phoneLib = createRequire(import.meta.url)('libphonenumber-js/max') as PhoneLib;
    } catch (cause) {
      throw new AgentGuardError('GUARDRAIL_UNAVAILABLE', 'The pii guardrail cannot load libphonenumber-js to validate phone numbers', {
        actions: ['Reinstall agentguard so its dependency libphonenumber-js is present.'],
        cause,
      });
    }
  }
  return phoneLib;
}

// Digit groups joined by one space, dot or dash, with an optional +country or (area) part and extension.
// Separators are required between groups so the pattern cannot backtrack exponentially.
// A number may follow "(" only when it starts with +, as in "(+1 415-555-0132)"; "(415)" is matched from its "(".
const PHONE = /(?<![\p{L}\p{N}+.-]|\((?!\+))(?:\+\d{1,3}[ .-]?)?(?:\(0\)[ .-]?)?(?:\(\d{1,5}\)[ .-]?)?\d{1,12}(?:[ .-]\d{1,12}){0,6}(?:\s?(?:x|ext\.?)\s?\d{1,6})?(?![\p{L}\p{N}]|[.-]\d)/gu;
const EXTENSION = /\s?(?:x|ext\.?)\s?\d{1,6}$/;
const DATE_SHAPE = /^(?:(?:1[89]|20)\d\d([.-])(?:0?[1-9]|1[0-2])\1(?:0?[1-9]|[12]\d|3[01])|(?:0?[1-9]|[12]\d|3[01])([.-])(?:0?[1-9]|1[0-2])\2(?:1[89]|20)\d\d)(?: \d{1,2})?$/;
const IPV4_SHAPE = /^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/;
/** Numbers whose validity a recognizer remembers (cleared when full). */
const KNOWN_NUMBERS = 4096;

export function createPhoneRecognizer(regions: readonly string[]): Recognizer {
  // libphonenumber takes tens of microseconds a number; texts repeat numbers (a signature, a table), and a long text of
  // digit groups was 4 ms per KB. Its answers are remembered, a bounded number of them.
  const known = new Map<string, boolean>();
  const validated = (main: string): boolean => {
    let valid = known.get(main);
    if (valid === undefined) {
      const lib = loadPhoneLib();
      const international = main.startsWith('+') ? main : main.startsWith('00') ? `+${main.slice(2)}` : null;
      valid =
        (international !== null && lib.parsePhoneNumberFromString(international)?.isValid() === true) ||
        (international === null && regions.some((region) => lib.parsePhoneNumberFromString(main, region)?.isValid() === true));
      if (known.size >= KNOWN_NUMBERS) known.clear();
      known.set(main, valid);
    }
    return valid;
  };
  return {
    type: 'PHONE_NUMBER',
    contextWords: ['phone', 'telephone', 'tel', 'mobile', 'cell', 'cellphone', 'fax', 'call', 'calling', 'office', 'reach', 'contact', 'number', 'answering', 'dial', 'whatsapp', 'sms', 'text', 'message', 'messages', 'home', 'work'],
    maxSpanLength: 32,
    find(text) {
      return scanRegex(text, PHONE, 'PHONE_NUMBER', (m) => {
        const value = m[0];
        const main = value.replace(EXTENSION, '');
        const digits = main.replace(/\D/g, '');
        if (digits.length < 6 || digits.length > 15) return null;
        // Six digits ("61 51 81") are short local numbers only when grouped; they need context words to pass.
        if (digits.length === 6) return /^\d{2}[ .-]\d{2}[ .-]\d{2}$/.test(main) ? 0.2 : null;
        if (DATE_SHAPE.test(main) || IPV4_SHAPE.test(main)) return null;
        const valid = validated(main);
        if (valid) return 0.75;
        const shaped = /[ .()+-]/.test(main);
        return shaped ? 0.4 : 0.2;
      });
    },
  };
}
