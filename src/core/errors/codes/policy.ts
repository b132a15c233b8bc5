import { defineErrors } from '../spec.js';

/** Errors of policies and their tests. */
export const POLICY_ERRORS = defineErrors({
  POLICY_INVALID: {
    status: 422,
    exit: 1,
    meaning: 'The policy does not validate: a schema or compile problem, reported with file:line:column.',
    fix: 'Run `agentguard policy validate <file>` to see every problem with its position and hint, and fix them.',
  },
  SOURCE_UNREADABLE: {
    status: 500,
    exit: 2,
    meaning: 'A policy or policy test file cannot be read (missing, a folder, too large, no permission).',
    fix: 'Check the path and that this user may read the file.',
  },
  SOURCE_SYNTAX: {
    status: 422,
    exit: 2,
    meaning: 'A policy or policy test file is not valid JSON or YAML; the message gives the line and column.',
    fix: 'Fix the syntax at the position shown.',
  },
  POLICY_TEST_INVALID: {
    status: 400,
    exit: 2,
    meaning: 'A policy test file cannot be used, so no case ran; every problem is listed with its position.',
    fix: 'Fix the test file at the positions shown; its format is described by schemas/policy-test.schema.json.',
  },
  NO_POLICY_TESTS: {
    status: 404,
    exit: 2,
    meaning: '`agentguard policy test` found no test files where it looked.',
    fix: 'Pass a test file (*.test.yaml, *.test.yml, *.test.json) or a folder that contains some.',
  },
  RELOAD_UNAVAILABLE: {
    status: 409,
    exit: 2,
    meaning: 'The sidecar was started without a policy file, so there is nothing to reload.',
    fix: 'Start the sidecar with a policy file to reload it.',
  },
  POLICY_RELOAD_FAILED: {
    status: 422,
    exit: 1,
    meaning: 'The policy file could not be loaded again; the previous policy stays in force.',
    fix: 'Check the sidecar log, and validate the file with `agentguard policy validate`.',
  },
  POLICY_UNSIGNED: {
    status: 422,
    exit: 2,
    meaning: 'A sidecar that trusts policy signing keys (--trust-policy-key) found an unsigned version in force in the fleet store; it is not used (at start the sidecar refuses to start, later the previous policy stays in force).',
    fix: 'Push the policy signed: `agentguard policy push <file> --sign-key <private.pem>` (or roll back to a signed version with --sign-key).',
  },
  POLICY_SIGNATURE_INVALID: {
    status: 422,
    exit: 2,
    meaning: 'A pushed policy version is signed by a key the sidecar does not trust, or its signed fields (hash, name, action, ofVersion, pushedBy, pushedAt) were changed after signing; it is not used.',
    fix: 'Push the policy again with --sign-key and a key the sidecars trust, and find out who could write the database.',
  },
  POLICY_SIGNATURE_REPLAYED: {
    status: 422,
    exit: 2,
    meaning: 'The newest pushed policy version carries a valid signature made before that of the version in force (or of a later signed version): an older signed row put back, which is refused.',
    fix: 'Push the policy again with --sign-key; to bring an older policy back on purpose use `agentguard policy rollback <version> --sign-key <private.pem>`.',
  },
  POLICY_KEY_EXISTS: {
    status: 409,
    exit: 2,
    meaning: '`agentguard policy keygen` found a key file already in the --out folder; keys are never overwritten.',
    fix: 'Choose another --out folder, or move the old key away first (sidecars that trust it then need the new public key).',
  },
  POLICY_KEY_UNREADABLE: {
    status: 500,
    exit: 2,
    meaning: 'A policy signing key (--sign-key) or trusted public key (--trust-policy-key) cannot be read or is not an Ed25519 PEM key.',
    fix: 'Pass the files written by `agentguard policy keygen --out <dir>`: the private key to --sign-key, the public key to --trust-policy-key.',
  },
  POLICY_KEY_PERMISSIONS: {
    status: 500,
    exit: 2,
    meaning: 'The policy signing key can be read by other users, so agentguard refuses to sign with it.',
    fix: 'Run `chmod 600` on the key file; if others may have read it, make a new key and give the sidecars its public key.',
  },
});
