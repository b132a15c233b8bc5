import { canonicalJson } from '../canonical-json.js';
import { AgentGuardError } from '../errors.js';
import { Policy } from '../policy/policy.js';
import type { PolicyVersion, Store } from './store.js';

/** The text a policy is pushed as: its composed document (includes and parameters resolved) as canonical JSON. */
export function pushedDocument(policy: Policy): string {
  return canonicalJson(policy.document);
}

/**
 * The policy in force in a fleet's store, loaded and checked: its document must hash to the hash recorded when it was
 * pushed (a changed row is refused, not used), and its regexes must be safe. Throws when the store has no policy.
 */
export async function loadStorePolicy(store: Store): Promise<{ policy: Policy; version: PolicyVersion }> {
  if (!store.policies) {
    throw new AgentGuardError('USAGE', `the store ${store.location} holds no pushed policies (only a PostgreSQL store shared by a fleet does)`, {
      actions: ['Start with --store postgresql://… (or AGENTGUARD_STORE_URL), or give a policy file instead of --policy-from-store.'],
    });
  }
  const current = await store.policies.current();
  if (current === null) {
    throw new AgentGuardError('STORE_POLICY_NOT_FOUND', `no policy has been pushed to ${store.location.replace(/#.*$/, '')}`, {
      actions: ['Push one with `agentguard policy push <file>`.'],
    });
  }
  const policy = Policy.parse(JSON.parse(current.document) as Record<string, unknown>, { filename: `store policy version ${current.version.version}` });
  if (policy.hash !== current.version.hash) {
    throw new AgentGuardError('POLICY_INVALID', `policy version ${current.version.version} in the store does not match the hash it was pushed with (${current.version.hash}); it was changed in the database`, {
      actions: ['Push the policy again (`agentguard policy push <file>`) and find out who could write the database.'],
    });
  }
  await policy.assertRegexesSafe();
  return { policy, version: current.version };
}
