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
});
