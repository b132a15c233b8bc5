import { AgentGuardError } from '../core/errors.js';
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
  return `v${v.version}  ${v.pushedAt}  ${v.pushedBy}  ${what}  ${v.name} ${v.hash}${v.source ? `  (${v.source})` : ''}${v.note ? `  "${v.note}"` : ''}`;
}
