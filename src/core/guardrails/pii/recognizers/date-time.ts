import { scanRegex, type Candidate, type Recognizer } from '../recognizer.js';

const MONTH = '(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)';
const TIME = '(?:[01]?\\d|2[0-3]):[0-5]\\d(?::[0-5]\\d(?:\\.\\d+)?)?(?:\\s?[ap]\\.?m\\.?)?';
const PATTERNS: readonly [RegExp, number][] = [
  // ISO 8601 date with optional time and zone.
  [new RegExp(`\\b\\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\\d|3[01])(?:[T ]${TIME}(?:Z|[+-]\\d{2}:?\\d{2})?)?(?![\\d-])`, 'gi'), 0.85],
  // 2/8/1935, 08.02.1935, 8-2-35
  [/\b(?:0?[1-9]|[12]\d|3[01])([/.-])(?:0?[1-9]|[12]\d|3[01])\1(?:\d{4}|\d{2})\b(?![/.-]\d)/g, 0.8],
  // 12 March 2020, March 12, 2020, March 2020
  [new RegExp(`\\b(?:\\d{1,2}(?:st|nd|rd|th)?\\s+(?:of\\s+)?${MONTH}\\.?(?:,?\\s+\\d{4})?|${MONTH}\\.?\\s+\\d{1,2}(?:st|nd|rd|th)?(?:,?\\s+\\d{4})?|${MONTH}\\s+\\d{4})\\b`, 'gi'), 0.8],
  [/\b(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)s?\b/gi, 0.7],
  [new RegExp(`\\b${TIME}(?!\\d)`, 'gi'), 0.6],
  // Bare years are common but weak: "1977" in "founded in 1977".
  [/(?<![\p{L}\p{N}.,$€£-])(?:1[89]\d\d|20\d\d)(?![\p{L}\p{N}]|[.,]\d|-\d)/gu, 0.45],
];

export const dateTimeRecognizer: Recognizer = {
  type: 'DATE_TIME',
  contextWords: ['date', 'born', 'birth', 'dob', 'since', 'year', 'founded', 'on', 'in', 'at', 'time', 'when', 'day', 'until'],
  maxSpanLength: 40,
  find(text) {
    const out: Candidate[] = [];
    // A loop, not push(...matches): a long text has more matches than a call can take as arguments.
    for (const [pattern, score] of PATTERNS) for (const c of scanRegex(text, pattern, 'DATE_TIME', () => score)) out.push(c);
    return out;
  },
};
