import { Flags } from '@oclif/core';
import { AgentGuardError, isAgentGuardError } from '../core/errors.js';
import type { Store } from '../core/store/store.js';
import { resolveDataDir } from './data-dir.js';

export { dataDirFlag } from './data-dir.js';

const noDatabase = (file: string) => `no audit log yet: there is no agentguard database at ${file}`;
const noDatabaseActions = [
  'Run `agentguard init` to set up the project, then record decisions: with the SDK (`new AgentGuard({ policy, agentId })`) or `agentguard policy simulate --record`.',
  'If the data lives elsewhere, pass --data-dir <folder> or set "dataDir" in agentguard.config.json.',
];

/** The filter flags shared by `audit query`, `audit tail` and `audit export`. */
export const auditFilterFlags = {
  agent: Flags.string({ description: 'Only records of this agent id.', helpValue: '<id>' }),
  effect: Flags.string({ description: 'Only decisions with this effect: allow, deny, transform or require_approval.', helpValue: '<effect>' }),
  rule: Flags.string({ description: 'Only decisions this rule id took part in.', helpValue: '<id>' }),
  type: Flags.string({ description: 'Only records of this type: decision, outcome (what happened when an allowed action ran) alert (a budget threshold crossed) or approval (a human approval requested or changed).', helpValue: '<type>' }),
};

/** The time-range flags of `audit query` and `audit export`. */
export const auditTimeFlags = {
  since: Flags.string({ description: 'Only records at or after this time: 2025-01-31, 2025-01-31T14:00:00Z, or back from now: 15m, 2h, 7d.', helpValue: '<time>' }),
  until: Flags.string({ description: 'Only records before this time (same forms as --since).', helpValue: '<time>' }),
};


/** Opens the store of the data folder for reading; a missing database is exit 2 with where it looked. */
export async function openAuditStore(dataDirFlag: string | undefined): Promise<Store> {
  const dataDir = await resolveDataDir(dataDirFlag);
  // The store is a native module: load it only in commands that use it.
  const { databasePath, openStore } = await import('../core/store/open-store.js');
  try {
    return await openStore({ dataDir, create: false });
  } catch (error) {
    if (isAgentGuardError(error) && error.code === 'STORE_NOT_FOUND') {
      throw new AgentGuardError('STORE_NOT_FOUND', noDatabase(databasePath({ dataDir })), { actions: noDatabaseActions, cause: error });
    }
    throw error;
  }
}
