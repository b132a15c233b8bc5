import { checkDeadline } from '../budget.js';
import { blankBlobs } from '../text/blobs.js';
import type { DetectOptions, Finding, Guardrail, GuardrailFactory } from '../types.js';
import { checkPiiConfig, PII_TYPES, piiConfigSchema, type PiiConfig } from './config.js';
import { CONTEXT_BOOST, contextLists, hasContext, type ContextLists } from './context.js';
import { loadNerTagger } from './ner-model.js';
import type { Candidate, Recognizer } from './recognizer.js';
import { resolveOverlaps } from './resolve.js';
import { foldForMatching, toOriginalSpans } from '../text/fold.js';
import { abaRoutingRecognizer } from './recognizers/aba-routing.js';
import { creditCardRecognizer } from './recognizers/credit-card.js';
import { cryptoRecognizer } from './recognizers/crypto.js';
import { dateTimeRecognizer } from './recognizers/date-time.js';
import { emailRecognizer } from './recognizers/email.js';
import { ibanRecognizer } from './recognizers/iban.js';
import { ipAddressRecognizer } from './recognizers/ip-address.js';
import { createPhoneRecognizer, loadPhoneLib } from './recognizers/phone.js';
import { urlRecognizer } from './recognizers/url.js';
import { usBankNumberRecognizer } from './recognizers/us-bank-number.js';
import { usDriverLicenseRecognizer } from './recognizers/us-driver-license.js';
import { usPassportRecognizer } from './recognizers/us-passport.js';
import { usSsnRecognizer } from './recognizers/us-ssn.js';

export { PII_TYPES, piiConfigSchema, type PiiConfig, type PiiType } from './config.js';

const NAME = 'pii';
const NER_TYPES = new Set(['PERSON', 'LOCATION']);
/** Longest name or place the tagger reports (longer runs are split by the tagger anyway). */
const NER_MAX_SPAN = 120;

/** Texts longer than this are scanned by each recognizer in windows of this many characters (see findInWindows). */
const WINDOW = 64 * 1024;
/** Characters before its window a recognizer also reads: what its lookbehinds and leading checks look at. */
const LOOKBACK = 256;

/**
 * A recognizer's candidates, found in windows of WINDOW characters on a long text, the deadline checked between
 * windows, so one recognizer never runs long past a decision's budget. Each window also reads LOOKBACK characters
 * before it and the recognizer's longest span after it, and keeps the candidates that start inside it: the same
 * candidates as one scan, except around a window's edge inside a run longer than LOOKBACK (digits, a URL), where a
 * run is read as starting at the edge, and a span is cut at its recognizer's longest span past the window.
 */
function findInWindows(r: Recognizer, text: string, out: Candidate[]): void {
  if (text.length <= WINDOW) {
    for (const c of r.find(text)) out.push(c);
    return;
  }
  const reach = Math.max(r.maxSpanLength, LOOKBACK);
  for (let own = 0; own < text.length; own += WINDOW) {
    checkDeadline();
    const from = Math.max(0, own - LOOKBACK);
    const ownEnd = Math.min(text.length, own + WINDOW);
    for (const c of r.find(text.slice(from, Math.min(text.length, ownEnd + reach)))) {
      const start = c.start + from;
      if (start >= own && start < ownEnd) out.push({ ...c, start, end: c.end + from });
    }
  }
}

function normalise(value: string): string {
  return value.trim().toLowerCase();
}

function createPii(rawConfig: PiiConfig): Guardrail {
  const config = checkPiiConfig(rawConfig, (code) => loadPhoneLib().isSupportedCountry(code));
  const enabled = new Set<string>(config.types);
  const recognizers: Recognizer[] = [
    emailRecognizer,
    createPhoneRecognizer(config.phoneRegions),
    creditCardRecognizer,
    usSsnRecognizer,
    ibanRecognizer,
    ipAddressRecognizer,
    urlRecognizer,
    usBankNumberRecognizer,
    abaRoutingRecognizer,
    usPassportRecognizer,
    usDriverLicenseRecognizer,
    cryptoRecognizer,
    dateTimeRecognizer,
  ].filter((r) => enabled.has(r.type));
  const context = new Map<string, ContextLists>();
  for (const type of config.types) {
    const builtIn = recognizers.find((r) => r.type === type)?.contextWords ?? [];
    context.set(type, contextLists([...builtIn, ...(config.contextWords[type] ?? [])]));
  }
  const allow = new Set(config.allowList.map(normalise));
  const wantsNer = config.types.some((t) => NER_TYPES.has(t));
  // Fail at creation, not at the first message, when the model file is missing.
  const tagger = wantsNer ? loadNerTagger() : undefined;
  // Phone metadata loads here too: on a decision's first phone-like number it would count against the guardrail budget.
  if (enabled.has('PHONE_NUMBER')) loadPhoneLib();

  return {
    name: NAME,
    description: 'Personal data: e-mail, phone, card, SSN, IBAN, IP, URL, bank, routing, passport, licence, crypto, dates, names and places.',
    types: config.types,
    contextualTypes: [...NER_TYPES],
    resolvesOverlaps: true,
    maxSpanLength: Math.max(wantsNer ? NER_MAX_SPAN : 0, ...recognizers.map((r) => r.maxSpanLength)),
    maxSpanLengthOf: (types) =>
      Math.max(wantsNer && types.some((t) => NER_TYPES.has(t)) ? NER_MAX_SPAN : 0, ...recognizers.filter((r) => types.includes(r.type)).map((r) => r.maxSpanLength)),
    detect(original: string, options: DetectOptions = {}): Finding[] {
      // Matched on the folded text (Unicode digits, invisible characters, spelt-out @: text/fold.ts), reported on the original.
      const folded = foldForMatching(original);
      const text = folded.text;
      const only = options.types === undefined ? undefined : new Set(options.types);
      const minScore = options.minScore ?? config.minScore;
      const candidates: Candidate[] = [];
      // A loop, not push(...found): a long text can have more candidates than a call can take as arguments.
      for (const r of recognizers) {
        if (only !== undefined && !only.has(r.type)) continue;
        checkDeadline();
        findInWindows(r, text, candidates);
      }
      checkDeadline();
      if (tagger !== undefined && (only === undefined || only.has('PERSON') || only.has('LOCATION'))) {
        // The tagger reads language: inline images and other blobs are blanked (same length, so spans stay put).
        for (const c of tagger.tag(blankBlobs(text, { keepOffsets: true }))) if (enabled.has(c.type) && (only === undefined || only.has(c.type))) candidates.push(c);
      }
      checkDeadline();
      const scored: Candidate[] = [];
      for (const c of candidates) {
        if (allow.size > 0 && allow.has(normalise(text.slice(c.start, c.end)))) continue;
        const lists = context.get(c.type);
        let score = c.score;
        if (lists !== undefined && score < 1 && hasContext(text, c.start, c.end, lists.words, lists.phrases)) score = Math.min(1, score + CONTEXT_BOOST);
        score = Math.round(score * 1000) / 1000;
        if (score >= minScore) scored.push({ ...c, score });
      }
      return toOriginalSpans(folded, resolveOverlaps(scored)).map((c) => ({ guardrail: NAME, type: c.type, start: c.start, end: c.end, score: c.score }));
    },
  };
}

export const piiGuardrail: GuardrailFactory<PiiConfig> = {
  name: NAME,
  description: 'Finds personal data with validated patterns (Luhn, mod-97, checksums, libphonenumber), context words and a local name/place tagger.',
  configSchema: piiConfigSchema,
  create: createPii,
};

