import { positioned, type CompiledPolicy } from './compile.js';
import type { ParsedSource } from './load.js';
import { checkRegexes } from './lint/redos.js';
import { PolicyError } from './policy-error.js';

/**
 * Refuses a policy that would put a catastrophic regex in front of a running engine: every loader that enforces a
 * policy (sidecar start and reload, `AgentGuard`, `policy test`, `policy simulate`) calls this before the policy
 * decides anything. A regex recheck finds exponential or polynomial, or cannot decide, is an error with its position,
 * unless the policy accepts it by name with `unsafeRegex: true`. Throws PolicyError.
 */
export async function assertRegexesSafe(policy: CompiledPolicy, source: ParsedSource): Promise<void> {
  const problems = (await checkRegexes(policy.document, { enforce: true })).filter((p) => p.severity === 'error');
  if (problems.length > 0) throw new PolicyError(source.filename, positioned(source, problems));
}
