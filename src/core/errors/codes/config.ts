import { defineErrors } from '../spec.js';

/** Errors of agentguard.config.json, notification settings and the price catalog. */
export const CONFIG_ERRORS = defineErrors({
  CONFIG_INVALID: {
    status: 500,
    exit: 2,
    meaning: 'agentguard.config.json (or a setting in it) is not valid; the message names the field.',
    fix: 'Fix the field named, or delete the file and run `agentguard init` again.',
  },
  NOTIFY_SECRET_MISSING: {
    status: 500,
    exit: 2,
    meaning: 'An approval notification channel names an environment variable for its secret that is not set.',
    fix: 'Set the variable in the environment of the process that sends notifications and checks their callbacks (the sidecar).',
  },
  PRICES_INVALID: {
    status: 500,
    exit: 2,
    meaning: 'A price file is not valid JSON, or some of its entries are not valid prices.',
    fix: 'Fix the entries listed in the message; `agentguard cost prices import --help` shows the format.',
  },
  PRICES_MISSING: {
    status: 500,
    exit: 1,
    meaning: 'The price catalog shipped with agentguard is missing.',
    fix: 'Reinstall agentguard (npm install agentguard).',
  },
  REDACTION_KEY_INVALID: {
    status: 500,
    exit: 2,
    meaning: 'The redaction key (for hash and encrypt redaction) is not a 32-byte key.',
    fix: 'Give 64 hex digits or base64 of 32 random bytes, e.g. from `openssl rand -hex 32`.',
  },
});
