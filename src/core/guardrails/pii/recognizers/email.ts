import { scanRegex, type Recognizer } from '../recognizer.js';

// A match starts where a run of local-part characters starts (the lookbehind) and the run is capped: without both, a
// long run with no `@` (`A.A.A.…`, base64) was rescanned from every position, quadratic in its length. The cap leaves
// room for leading punctuation, which is trimmed below before the 64-character limit of the local part is checked.
const EMAIL = /(?<![A-Za-z0-9!#$%&'*+/=?^_`{|}~.-])[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]{1,256}@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+(?:[A-Za-z]{2,63}|xn--[A-Za-z0-9-]{2,59})(?![A-Za-z0-9-])/g;

function validLocal(local: string): boolean {
  return local.length <= 64 && !local.startsWith('.') && !local.endsWith('.') && !local.includes('..');
}

export const emailRecognizer: Recognizer = {
  type: 'EMAIL_ADDRESS',
  contextWords: ['email', 'e-mail', 'mail', 'contact'],
  maxSpanLength: 254,
  find(text) {
    return scanRegex(text, EMAIL, 'EMAIL_ADDRESS', (m) => {
      let value = m[0];
      // Trailing punctuation belongs to the sentence, leading to the surrounding text.
      const at = value.indexOf('@');
      let local = value.slice(0, at);
      const trimmed = local.replace(/^[^A-Za-z0-9]+/, '');
      if (trimmed !== local) {
        m.index += local.length - trimmed.length;
        local = trimmed;
        value = local + value.slice(at);
        m[0] = value;
      }
      return validLocal(local) && value.length <= 254 ? 0.95 : null;
    });
  },
};
