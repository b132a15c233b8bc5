import { defineErrors } from '../spec.js';

/** Errors of guardrails, their models, evaluation sets and redaction. */
export const GUARDRAIL_ERRORS = defineErrors({
  GUARDRAIL_CONFIG_INVALID: {
    status: 500,
    exit: 2,
    meaning: 'A guardrail was given options it cannot use; the message names the guardrail and the option.',
    fix: 'Fix the option in the policy or agentguard.config.json as the message says.',
  },
  GUARDRAIL_MODEL_MISSING: {
    status: 500,
    exit: 2,
    meaning: 'A guardrail cannot read the model file it ships with.',
    fix: 'Reinstall agentguard (npm install agentguard); the package ships models/.',
  },
  GUARDRAIL_MODEL_INVALID: {
    status: 500,
    exit: 2,
    meaning: 'A guardrail model file is corrupt or has an unexpected format.',
    fix: 'Reinstall agentguard, or retrain the model with the script named in the message.',
  },
  GUARDRAIL_UNAVAILABLE: {
    status: 503,
    exit: 2,
    meaning: 'A guardrail cannot run: a provider API is unreachable or has no key, or a library it needs cannot load.',
    fix: 'Set the API key or install the library named in the message; until then the guardrail fails closed.',
  },
  GUARDRAIL_NOT_SYNC: {
    status: 500,
    exit: 2,
    meaning: 'A guardrail that answers asynchronously was called through the synchronous API.',
    fix: 'Call the asynchronous variant named in the message.',
  },
  DATASET_UNREADABLE: {
    status: 400,
    exit: 2,
    meaning: 'The evaluation set given to `agentguard guardrails eval` cannot be read.',
    fix: 'Check the path; the shared evaluation sets are in ../shared/data/eval.',
  },
  DATASET_INVALID: {
    status: 400,
    exit: 2,
    meaning: 'A row of an evaluation set is not valid JSON or lacks a field; the message gives file:line.',
    fix: 'Fix the row; each row is a JSON object with the text and its labels.',
  },
  DATASET_EMPTY: {
    status: 400,
    exit: 2,
    meaning: 'An evaluation set has no rows.',
    fix: 'Pass a JSONL file with at least one labelled row.',
  },
  GUARDRAIL_TYPE_UNKNOWN: {
    status: 400,
    exit: 2,
    meaning: 'A type was asked for that none of the chosen guardrails can report.',
    fix: 'Run `agentguard guardrails list` to see each guardrail\'s types, and ask for those (or add the guardrail that reports it).',
  },
  REDACT_OPTIONS_INVALID: {
    status: 500,
    exit: 2,
    meaning: 'A redaction was asked for with options it cannot use.',
    fix: 'Fix the redact options as the message says (mode mask, hash or encrypt; a key for hash and encrypt).',
  },
  REDACT_KEY_INVALID: {
    status: 500,
    exit: 2,
    meaning: 'A hash or encrypt redaction was given a key of the wrong length.',
    fix: 'Give a 32-byte key (64 hex digits), e.g. from `openssl rand -hex 32`.',
  },
  REDACT_SPAN_INVALID: {
    status: 500,
    exit: 1,
    meaning: 'A span to redact lies outside its text or has no type.',
    fix: 'Pass spans from the guardrail that scanned this same text.',
  },
  REDACT_TOKEN_COLLISION: {
    status: 422,
    exit: 1,
    meaning: 'The text already contains an <enc:…> token, so encrypt redaction could not be reversed unambiguously.',
    fix: 'Use mask or hash redaction for this text.',
  },
  REDACT_TOKEN_INVALID: {
    status: 422,
    exit: 1,
    meaning: 'An encryption token cannot be decrypted: it was altered, truncated or made with another key.',
    fix: 'Decrypt with the key the text was encrypted with, from an unaltered copy.',
  },
});
