import { scanRegex, type Recognizer } from '../recognizer.js';

// Shapes used by US states: a letter (or two) and 4-14 digits, or 6-14 digits; bare digits are weaker.
const LICENSE = /(?<![\p{L}\p{N}])(?:[A-Za-z]{1,2}\d{4,14}|\d{6,14})(?![\p{L}\p{N}])/gu;

export const usDriverLicenseRecognizer: Recognizer = {
  type: 'US_DRIVER_LICENSE',
  contextWords: ['driver', 'drivers', 'driving', 'license', 'licence', 'licenses', 'dl', 'dln', 'permit', 'lic'],
  maxSpanLength: 16,
  find: (text) => scanRegex(text, LICENSE, 'US_DRIVER_LICENSE', (m) => (/^\d/.test(m[0]) ? 0.25 : 0.3)),
};
