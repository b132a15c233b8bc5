/**
 * Adapters that put the offline npm peers behind one shape each, so the bench scores them exactly like ours:
 * - span tools: `detect(text)` → `[{ start, end, type }]` (type in OUR names) or a promise of it;
 * - classifiers: `classify(text)` → `{ flagged, score }` (score undefined when the tool gives none) or a promise.
 * Each adapter has `name`, `reports` (span tools: which of our types it can report at all), `how` (what was called and how its output became spans, printed under the tables) and
 * `stats.unaligned` (rows whose redacted output could not be aligned with the input; they count as no findings).
 * Only offline checks are used: nothing here calls a network service or an LLM.
 */
import { readFileSync } from 'node:fs';
import { checkInjection, checkJailbreak } from 'llm_guardrail';
import vard from '@andersmyrmel/vard';
import { OpenRedaction, getPatternsByCategory } from '@openredaction/openredaction';
import { pii as openaiPii, PIIConfig, secretKeysCheck, SecretKeysConfig } from '@openai/guardrails';
import { SyncRedactor } from 'redact-pii';
import { normalisedWithMap, spansFromRedacted } from './guardrail-align.js';

/** The installed version, read from the peer's own package.json (some packages do not export it). */
export function peerVersion(pkg) {
  try {
    return JSON.parse(readFileSync(new URL(`../../node_modules/${pkg}/package.json`, import.meta.url), 'utf8')).version;
  } catch {
    return '?';
  }
}

const named = (pkg, label = pkg) => `${label} ${peerVersion(pkg)}`;

// ---------------------------------------------------------------- PII

/** redact-pii replaces matches with fixed words; these are its built-in ones, mapped to our types. */
export const REDACT_PII_TYPES = {
  CREDIT_CARD_NUMBER: 'CREDIT_CARD',
  US_SOCIAL_SECURITY_NUMBER: 'US_SSN',
  EMAIL_ADDRESS: 'EMAIL_ADDRESS',
  PHONE_NUMBER: 'PHONE_NUMBER',
  IP_ADDRESS: 'IP_ADDRESS',
  URL: 'URL',
  PERSON_NAME: 'PERSON',
  STREET_ADDRESS: 'LOCATION',
  // Reported under their own names, which no gold span uses: zip codes are not LOCATION in the labels we score.
  ZIPCODE: 'ZIPCODE',
  DIGITS: 'DIGITS',
  USERNAME: 'USERNAME',
  PASSWORD: 'PASSWORD',
  CREDENTIALS: 'CREDENTIALS',
};
// Longest first so a token is never cut short by a shorter one it contains.
const REDACT_PII_TOKEN = new RegExp(Object.keys(REDACT_PII_TYPES).sort((a, b) => b.length - a.length).join('|'), 'g');

export function redactPiiAdapter() {
  const redactor = new SyncRedactor();
  const stats = { unaligned: 0 };
  return {
    name: named('redact-pii'),
    reports: ['EMAIL_ADDRESS', 'PHONE_NUMBER', 'CREDIT_CARD', 'US_SSN', 'IP_ADDRESS', 'URL', 'PERSON', 'LOCATION'],
    how: 'SyncRedactor().redact(text) with its defaults; spans recovered by aligning the redacted text with the input (placeholder words such as PHONE_NUMBER mark the spans).',
    stats,
    detect(text) {
      const spans = spansFromRedacted(text, redactor.redact(text), REDACT_PII_TOKEN, (token) => REDACT_PII_TYPES[token]);
      if (spans === null) stats.unaligned++;
      return spans ?? [];
    },
  };
}

/** openredaction type → our type; anything else keeps its own name (so it can never match a gold span). */
export function openRedactionType(type) {
  if (type === 'EMAIL') return 'EMAIL_ADDRESS';
  if (type.startsWith('PHONE_')) return 'PHONE_NUMBER';
  if (type === 'CREDIT_CARD') return 'CREDIT_CARD';
  if (type === 'SSN') return 'US_SSN';
  if (type === 'IBAN' || type === 'UK_BANK_ACCOUNT_IBAN') return 'IBAN_CODE';
  if (type === 'IPV4' || type === 'IPV6') return 'IP_ADDRESS';
  if (type === 'URL_WITH_AUTH') return 'URL';
  if (type === 'NAME') return 'PERSON';
  if (type === 'ADDRESS_STREET' || type === 'ADDRESS_PO_BOX') return 'LOCATION';
  return type;
}

export function openRedactionAdapter() {
  // The result cache is switched off so repeated bench rows time the detection, not a Map lookup.
  const shield = new OpenRedaction({ enableCache: false });
  return {
    name: named('@openredaction/openredaction'),
    reports: ['EMAIL_ADDRESS', 'PHONE_NUMBER', 'CREDIT_CARD', 'US_SSN', 'IBAN_CODE', 'IP_ADDRESS', 'URL', 'PERSON', 'LOCATION'],
    how: 'new OpenRedaction({ enableCache: false }).detect(text); it returns positions, used as they are. Types: EMAIL→EMAIL_ADDRESS, PHONE_*→PHONE_NUMBER, SSN→US_SSN, IBAN→IBAN_CODE, IPV4/IPV6→IP_ADDRESS, URL_WITH_AUTH→URL, NAME→PERSON, ADDRESS_STREET/ADDRESS_PO_BOX→LOCATION.',
    stats: { unaligned: 0 },
    detect(text) {
      return shield.detect(text).detections.map((d) => ({ start: d.position[0], end: d.position[1], type: openRedactionType(d.type) }));
    },
  };
}

const ZERO_WIDTH = /[\u200B\u200C\u200D\u2060\uFEFF]/g;
const OPENAI_TOKEN = /<[A-Z][A-Z0-9_]*>/g;
const openaiType = (token) => token.slice(1, -1).replace(/_ENCODED$/, '');

export function openaiPiiAdapter() {
  const config = PIIConfig.parse({});
  const stats = { unaligned: 0 };
  return {
    name: named('@openai/guardrails', '@openai/guardrails "Contains PII"'),
    reports: config.entities,
    how: `the "Contains PII" check with its default entities (${config.entities.length}; PERSON is not among them); it returns a masked copy of the NFKC-normalised text, so spans are recovered by aligning that copy (placeholders <TYPE>) with the normalised input and mapping back. Its type names are already ours.`,
    stats,
    async detect(text) {
      if (text === '') return []; // the check throws on empty text
      const result = await openaiPii({}, text, config);
      const normalised = normalisedWithMap(text, (s) => s.normalize('NFKC').replace(ZERO_WIDTH, ''));
      const spans = normalised && spansFromRedacted(normalised.text, result.info.checked_text, OPENAI_TOKEN, openaiType);
      if (!spans) {
        stats.unaligned++;
        return [];
      }
      return spans.map(normalised.toOriginal);
    },
  };
}

// ---------------------------------------------------------------- secrets (type-agnostic: every span is SECRET)

export function openaiSecretsAdapter() {
  const config = SecretKeysConfig.parse({});
  return {
    name: named('@openai/guardrails', '@openai/guardrails "Secret Keys"'),
    how: 'the "Secret Keys" check (threshold "balanced"); it splits the text on whitespace, strips * and #, and reports the words it judges secret, so each reported word is located at the whitespace-separated word it came from.',
    stats: { unaligned: 0 },
    async detect(text) {
      const result = await secretKeysCheck({}, text, config);
      const secrets = new Set(result.info.detected_secrets);
      const spans = [];
      for (const m of text.matchAll(/\S+/g)) {
        if (secrets.has(m[0].replace(/[*#]/g, ''))) spans.push({ start: m.index, end: m.index + m[0].length, type: 'SECRET' });
      }
      return spans;
    },
  };
}

export function openRedactionSecretsAdapter() {
  const shield = new OpenRedaction({ enableCache: false });
  // Its own grouping: the "credentials" category, plus URLs with a password in them (filed under network).
  const credentialTypes = new Set([...getPatternsByCategory('credentials').map((p) => p.type), 'URL_WITH_AUTH']);
  return {
    name: named('@openredaction/openredaction'),
    how: `detect(text); only findings of its "credentials" category (${credentialTypes.size - 1} types) and URL_WITH_AUTH count as secrets; its other findings (names, user names, IDs) are ignored rather than counted as false positives.`,
    stats: { unaligned: 0 },
    detect(text) {
      return shield
        .detect(text)
        .detections.filter((d) => credentialTypes.has(d.type))
        .map((d) => ({ start: d.position[0], end: d.position[1], type: 'SECRET' }));
    },
  };
}

// ---------------------------------------------------------------- injection

export function vardAdapter() {
  // Every pattern at any severity, so the highest severity works as a score for ROC AUC and TPR at 1 % FPR.
  const scorer = vard.strict().threshold(0);
  return {
    name: named('@andersmyrmel/vard'),
    how: 'verdict: vard.safe(text) with its default (moderate) preset; score: the highest severity of any of its patterns (strict preset, threshold 0).',
    stats: { unaligned: 0 },
    classify(text) {
      const verdict = vard.safe(text);
      const all = scorer.safeParse(text);
      const score = all.safe ? 0 : Math.max(...all.threats.map((t) => t.severity));
      return { flagged: !verdict.safe, score };
    },
  };
}

export function llmGuardrailAdapter() {
  return {
    name: named('llm_guardrail'),
    how: 'checkInjection and checkJailbreak (its malicious-content model is left out: harmful requests are not injections); flagged when either detects, score = the higher confidence.',
    stats: { unaligned: 0 },
    async classify(text) {
      const [injection, jailbreak] = await Promise.all([checkInjection(text), checkJailbreak(text)]);
      return { flagged: injection.detected || jailbreak.detected, score: Math.max(injection.confidence, jailbreak.confidence) };
    },
  };
}

export const piiPeers = () => [redactPiiAdapter(), openRedactionAdapter(), openaiPiiAdapter()];
export const secretsPeers = () => [openaiSecretsAdapter(), openRedactionSecretsAdapter()];
export const injectionPeers = () => [vardAdapter(), llmGuardrailAdapter()];
