import { Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import { dataDirFlag, resolveDataDir } from '../../cli/data-dir.js';
import { openPolicyStore, renderVersion } from '../../cli/policy-store.js';
import type { PolicyVersion } from '../../core/store/store.js';

/** `--json` output: versions, newest (the one in force) first. */
export type PolicyHistoryResult = PolicyVersion[];

export default class PolicyHistory extends BaseCommand {
  static summary = 'List the policy versions pushed to the fleet, newest (in force) first.';
  static description = 'Every push and rollback is a version: its number, when and by whom, the policy name and hash (the hash decisions record), the file it came from and the note.';
  static examples = [{ description: 'The last versions', command: '<%= config.bin %> <%= command.id %> --limit 10' }];
  static flags = {
    limit: Flags.integer({ description: 'At most this many versions.', min: 1, default: 50 }),
    ...dataDirFlag,
  };

  async run(): Promise<PolicyHistoryResult> {
    const { flags } = await this.parse(PolicyHistory);
    const store = await openPolicyStore(await resolveDataDir(flags['data-dir']));
    let versions: PolicyVersion[];
    try {
      versions = await store.policies.history(flags.limit);
    } finally {
      await store.close();
    }
    if (!this.jsonEnabled()) {
      if (versions.length === 0) this.note('No policy has been pushed yet: `agentguard policy push <file>`.');
      for (const v of versions) process.stdout.write(`${renderVersion(v)}\n`);
    }
    return versions;
  }
}
