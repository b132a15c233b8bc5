import { Flags } from '@oclif/core';
import { resolve } from 'node:path';
import { AgentGuardError } from '../core/errors.js';
import type { PolicySignature } from '../core/policy-signing/signature.js';
import type { SignedPolicyFields } from '../core/policy-signing/signed-fields.js';
import type { PolicyVersion, Store } from '../core/store/store.js';

/** Opens the fleet's store for the policy commands; refuses one that keeps no pushed policies (SQLite). */
export async function openPolicyStore(dataDir: string): Promise<Store & { policies: NonNullable<Store['policies']> }> {
  const { openStore } = await import('../core/store/open-store.js');
  const store = await openStore({ dataDir });
  if (!store.policies) {
    await store.close();
    throw new AgentGuardError('USAGE', 'policies are pushed to the PostgreSQL store of a fleet, and none is configured', {
      actions: ['Pass --store postgresql://… (or set AGENTGUARD_STORE_URL, or "store.url" in agentguard.config.json). See docs/fleet.md.'],
    });
  }
  return store as Store & { policies: NonNullable<Store['policies']> };
}

/** Who is pushing: --by, else the OS user. */
export async function pusher(by: string | undefined): Promise<string> {
  if (by !== undefined && by.trim() !== '') return by.trim();
  const { userInfo } = await import('node:os');
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}

/** One line per version, for people. */
export function renderVersion(v: PolicyVersion): string {
  const what = v.action === 'rollback' ? `rollback to v${v.ofVersion}` : 'push';
  const signed = v.signedBy ? `signed ${v.signedBy}` : 'unsigned';
  return `v${v.version}  ${v.pushedAt}  ${v.pushedBy}  ${what}  ${v.name} ${v.hash}  ${signed}${v.source ? `  (${v.source})` : ''}${v.note ? `  "${v.note}"` : ''}`;
}

/** The `--sign-key` flag of `policy push` and `policy rollback`. */
export const signKeyFlag = {
  'sign-key': Flags.string({
    description: 'Sign the version with this Ed25519 private key (from `agentguard policy keygen`; mode 0600). Sidecars started with --trust-policy-key accept only signed versions.',
    helpValue: '<private.pem>',
  }),
};

/**
 * Signs a version's fields with the `--sign-key` file, read before the store is opened so that a refused key changes
 * nothing. Null without the flag.
 */
export async function signer(keyFile: string | undefined): Promise<((fields: SignedPolicyFields) => PolicySignature) | null> {
  if (keyFile === undefined) return null;
  const [{ readPolicySigningKey }, { signPolicyVersion }] = await Promise.all([import('../core/policy-signing/keys.js'), import('../core/policy-signing/signature.js')]);
  const key = readPolicySigningKey(resolve(keyFile));
  return (fields) => signPolicyVersion(fields, key);
}
