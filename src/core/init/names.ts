import { basename } from 'node:path';

/** Same rule as `name` in schemas/policy.schema.json. */
const POLICY_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const POLICY_NAME_MAX = 128;
const AGENT_ID_MAX = 256;

/** Why a policy name is not valid, or undefined when it is. */
export function policyNameProblem(name: string): string | undefined {
  if (name === '') return 'the policy name is empty';
  if (name.length > POLICY_NAME_MAX) return `the policy name is longer than ${POLICY_NAME_MAX} characters`;
  if (!POLICY_NAME.test(name)) return `"${name}" is not a valid policy name: start with a letter or digit, then use letters, digits, ".", "_" or "-"`;
  return undefined;
}

/** Why an agent id is not valid, or undefined when it is. Agent ids are free text without spaces or control characters. */
export function agentIdProblem(id: string): string | undefined {
  if (id === '') return 'the agent id is empty';
  if (id.length > AGENT_ID_MAX) return `the agent id is longer than ${AGENT_ID_MAX} characters`;
  if (/[\s\p{C}]/u.test(id)) return `"${id}" is not a valid agent id: it may not contain spaces or control characters`;
  return undefined;
}

/**
 * A policy name derived from the project folder's name (`/src/Acme Support` → `Acme-Support`),
 * or `fallback` when nothing usable is left.
 */
export function defaultPolicyName(projectDir: string, fallback: string): string {
  const cleaned = basename(projectDir)
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/^[^A-Za-z0-9]+/, '')
    .replace(/-+$/, '')
    .slice(0, POLICY_NAME_MAX);
  return policyNameProblem(cleaned) === undefined ? cleaned : fallback;
}
