import { canonicalJson } from '../canonical-json.js';
import { AgentGuardError } from '../errors.js';
import { Policy } from '../policy/policy.js';
import type { TrustedPolicyKey } from '../policy-signing/keys.js';
import { checkPolicySignature, type PolicySignature } from '../policy-signing/signature.js';
import type { PolicyVersion, PolicyVersionStore, Store } from './store.js';

/** The text a policy is pushed as: its composed document (includes and parameters resolved) as canonical JSON. */
export function pushedDocument(policy: Policy): string {
  return canonicalJson(policy.document);
}

/** What a sidecar requires of a stored version beyond its hash: a signature by one of these keys, not older than `inForce`. */
export interface StorePolicyTrust {
  keys: readonly TrustedPolicyKey[];
  /** The version in force now (null at start): a version signed before it was is a replay and refused. */
  inForce: PolicyVersion | null;
}

/**
 * The policy in force in a fleet's store, loaded and checked: its document must hash to the hash recorded when it was
 * pushed (a changed row is refused, not used), and its regexes must be safe. With trusted keys, its signature must
 * verify with one of them and no later signed version may exist (see checkTrust). Throws when the store has no policy.
 */
export async function loadStorePolicy(store: Store, trust?: StorePolicyTrust): Promise<{ policy: Policy; version: PolicyVersion }> {
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
  if (trust && trust.keys.length > 0) await checkTrust(store.policies, current.version, current.signature, trust);
  const policy = Policy.parse(JSON.parse(current.document) as Record<string, unknown>, { filename: `store policy version ${current.version.version}` });
  if (policy.hash !== current.version.hash) {
    throw new AgentGuardError('POLICY_INVALID', `policy version ${current.version.version} in the store does not match the hash it was pushed with (${current.version.hash}); it was changed in the database`, {
      actions: [trust?.keys.length ? RESIGN : 'Push the policy again (`agentguard policy push <file>`).', 'Find out who could write the database.'],
    });
  }
  await policy.assertRegexesSafe();
  return { policy, version: current.version };
}

/**
 * Loads the fleet's policy for one sidecar, remembering the version in force so that a later load refuses a signed
 * version older than it (a replayed row). A refused load leaves the remembered version as it was.
 */
export class StorePolicySource {
  private inForce: PolicyVersion | null = null;

  constructor(
    private readonly store: Store,
    private readonly trustedKeys: readonly TrustedPolicyKey[],
  ) {}

  async load(): Promise<{ policy: Policy; version: PolicyVersion }> {
    const loaded = await loadStorePolicy(this.store, { keys: this.trustedKeys, inForce: this.inForce });
    this.inForce = loaded.version;
    return loaded;
  }
}

const RESIGN = 'Push the policy again signed with a trusted key (`agentguard policy push <file> --sign-key <private.pem>`), or roll back to a signed version with --sign-key.';

async function checkTrust(policies: PolicyVersionStore, version: PolicyVersion, signature: PolicySignature | null, trust: StorePolicyTrust): Promise<void> {
  const v = `policy version ${version.version}`;
  const problem = checkPolicySignature(version, signature, trust.keys);
  if (problem === 'unsigned') {
    throw new AgentGuardError('POLICY_UNSIGNED', `${v} in the store is not signed, and this sidecar accepts only versions signed by ${trusted(trust)}`, { actions: [RESIGN] });
  }
  if (problem === 'untrusted-key') {
    throw new AgentGuardError('POLICY_SIGNATURE_INVALID', `${v} in the store is signed by ${signature!.keyId}, which is not one of the keys this sidecar trusts (${trusted(trust)})`, {
      actions: [RESIGN, 'Or start the sidecar with --trust-policy-key <public.pem> for that key, if it is yours.'],
    });
  }
  if (problem === 'bad-signature') {
    throw new AgentGuardError('POLICY_SIGNATURE_INVALID', `${v} in the store does not match its signature (key ${signature!.keyId}): its hash, name, action, pushedBy or pushedAt was changed in the database after it was signed`, {
      actions: [RESIGN, 'Find out who could write the database.'],
    });
  }
  const pushedAt = Date.parse(version.pushedAt);
  if (Number.isNaN(pushedAt)) {
    throw new AgentGuardError('POLICY_SIGNATURE_INVALID', `${v} in the store was signed with a pushedAt that is not a time`, { actions: [RESIGN] });
  }
  if (trust.inForce && pushedAt < Date.parse(trust.inForce.pushedAt)) {
    throw new AgentGuardError('POLICY_SIGNATURE_REPLAYED', `${v} in the store was signed at ${version.pushedAt}, before version ${trust.inForce.version} in force (signed at ${trust.inForce.pushedAt}): an older signed version put back as a new row is refused`, {
      actions: [RESIGN, 'To bring an older policy back on purpose, use `agentguard policy rollback <version> --sign-key <private.pem>`.'],
    });
  }
  // At start nothing is in force yet: a version signed later than the newest row, and still valid, shows the newest is a replay.
  for (const later of await policies.signedAfter(version.pushedAt)) {
    if (later.version.version === version.version || checkPolicySignature(later.version, later.signature, trust.keys) !== null) continue;
    throw new AgentGuardError('POLICY_SIGNATURE_REPLAYED', `${v} in the store was signed at ${version.pushedAt}, before version ${later.version.version} (signed at ${later.version.pushedAt}): an older signed version put back as the newest row is refused`, {
      actions: [RESIGN, 'To bring an older policy back on purpose, use `agentguard policy rollback <version> --sign-key <private.pem>`.'],
    });
  }
}

function trusted(trust: StorePolicyTrust): string {
  return trust.keys.map((k) => k.keyId).join(', ');
}
