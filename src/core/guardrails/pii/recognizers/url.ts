import { scanRegex, type Recognizer } from '../recognizer.js';

// Scheme or www. URLs; a bare host name is reported only with a common TLD and a lower score.
const URL_WITH_SCHEME = /\b(?:https?|ftp):\/\/[^\s<>"'`{}|\\^]+|\bwww\.[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+[^\s<>"'`{}|\\^]*/gi;
// A bare host starts a run of host characters (not after `.`, `-`, `@`, `/`) and has at most 127 labels (253
// characters): otherwise every label of a long dotted run (`A.A.A.…`) started a scan to the end of the run (quadratic).
const BARE_HOST = /(?<![.@/-])\b(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.){1,127}(?:com|org|net|edu|gov|io|co|ai|dev|app|info|biz|uk|de|fr|nl|ca|au|eu|us)(?:\/[^\s<>"'`{}|\\^]*)?(?![A-Za-z0-9@-])/gi;
const TRAILING = new Set('.,;:!?)]}\'"');

/** `value` without trailing sentence punctuation; a loop, since `/[.,…]+$/` retries from every punctuation mark. */
function withoutTrailing(value: string): string {
  let end = value.length;
  while (end > 0 && TRAILING.has(value[end - 1])) end--;
  return end === value.length ? value : value.slice(0, end);
}

function hostOf(url: string): string {
  return url.replace(/^[a-z]+:\/\//i, '').split(/[/?#:]/)[0];
}

export const urlRecognizer: Recognizer = {
  type: 'URL',
  contextWords: ['url', 'link', 'website', 'site', 'web', 'visit', 'http', 'https'],
  maxSpanLength: 2048,
  find(text) {
    const withScheme = scanRegex(text, URL_WITH_SCHEME, 'URL', (m) => {
      const clean = withoutTrailing(m[0]);
      m[0] = clean;
      const host = hostOf(clean);
      // A host needs a dot and a TLD of letters ("http://microsoft" is not a usable URL).
      return /\.[A-Za-z]{2,63}$|\.xn--[A-Za-z0-9-]+$/.test(host) || /^\d{1,3}(?:\.\d{1,3}){3}$/.test(host) || /^\[/.test(host) ? 0.9 : null;
    });
    const bare = scanRegex(text, BARE_HOST, 'URL', (m) => {
      const before = m.index > 0 ? text[m.index - 1] : '';
      if (before === '@' || before === '/' || before === '.') return null;
      m[0] = withoutTrailing(m[0]);
      return 0.5;
    });
    return [...withScheme, ...bare];
  },
};
