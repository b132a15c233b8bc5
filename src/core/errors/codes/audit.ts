import { defineErrors } from '../spec.js';

/** Errors of the audit trail, its signing keys and checkpoints. */
export const AUDIT_ERRORS = defineErrors({
  AUDIT_UNAVAILABLE: {
    status: 503,
    exit: 1,
    meaning: 'A decision, answer or outcome could not be written to the audit trail, so it was withheld (fail closed).',
    fix: 'Check that the data folder is writable and the disk not full, then try again.',
  },
  AUDIT_ENTRY_INVALID: {
    status: 500,
    exit: 70,
    meaning: 'An audit record being written is malformed.',
    fix: 'This is a bug in the code recording the entry; report it with the message.',
  },
  AUDIT_RECORD_UNREADABLE: {
    status: 500,
    exit: 2,
    meaning: 'A stored audit record cannot be parsed.',
    fix: 'Run `agentguard audit verify` to see whether the log was changed.',
  },
  AUDIT_RECORDER_CLOSED: {
    status: 500,
    exit: 2,
    meaning: 'Something was recorded through an audit recorder that was already closed.',
    fix: 'Open a new recorder (or AgentGuard) instead of reusing a closed one.',
  },
  AUDIT_QUERY_INVALID: {
    status: 400,
    exit: 2,
    meaning: 'An audit filter (time, limit, effect, …) has a value that cannot be used.',
    fix: 'Fix the filter as the message says; `agentguard audit query --help` lists the accepted forms.',
  },
  INVALID_QUERY: {
    status: 400,
    exit: 2,
    meaning: 'A query parameter of a sidecar audit request cannot be used (a bad filter, or a limit over the maximum).',
    fix: 'Fix the parameter as the message says; ask for fewer records or use `agentguard audit export` for everything.',
  },
  AUDIT_KEY_NOT_FOUND: {
    status: 500,
    exit: 2,
    meaning: 'The Ed25519 key that signs or checks audit checkpoints is not where agentguard looked.',
    fix: 'Pass the public key with --public-key <file> (exported by `agentguard audit public-key`); if the keys folder was deleted, treat the log as suspect.',
  },
  AUDIT_KEY_UNREADABLE: {
    status: 500,
    exit: 2,
    meaning: 'An audit signing or public key file cannot be read, or is not an Ed25519 key.',
    fix: 'Export the key again with `agentguard audit public-key --out <file>`, or restore it from a backup.',
  },
  AUDIT_KEY_PERMISSIONS: {
    status: 500,
    exit: 2,
    meaning: 'The audit signing key can be read by other users, so agentguard refuses to use it.',
    fix: 'Run `chmod 600` on the key file; if others may have read it, create a new key and give verifiers the new public key.',
  },
  CHECKPOINT_UNREADABLE: {
    status: 500,
    exit: 2,
    meaning: 'A checkpoint file cannot be read or is not one agentguard wrote.',
    fix: 'Pass a file written by `agentguard audit checkpoint --out <file>`.',
  },
  CHECKPOINT_WRITE_FAILED: {
    status: 500,
    exit: 2,
    meaning: 'The checkpoint file cannot be written.',
    fix: 'Check that the folder exists and that this user may write to it.',
  },
});
