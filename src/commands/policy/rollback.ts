import { Args, Flags } from '@oclif/core';
import { AgentGuardError, BaseCommand } from '../../cli/base-command.js';
import { dataDirFlag, resolveDataDir } from '../../cli/data-dir.js';
import { openPolicyStore, pusher, renderVersion } from '../../cli/policy-store.js';
import { paint } from '../../cli/style.js';
import type { PolicyVersion } from '../../core/store/store.js';

/** `--json` output: the new version, which brings the earlier one back. */
export type PolicyRollbackResult = PolicyVersion;

export default class PolicyRollback extends BaseCommand {
  static summary = 'Put an earlier pushed policy version back in force on the fleet.';
  static description = 'Adds a version that brings back the document of <version> (the history keeps both), and tells every sidecar started with --policy-from-store to switch to it.';
  static examples = [{ description: 'Back to version 3', command: '<%= config.bin %> <%= command.id %> 3 --note "v4 blocked the refund flow"' }];
  static args = { version: Args.integer({ description: 'The version to bring back (see `agentguard policy history`).', required: true, min: 1 }) };
  static flags = {
    note: Flags.string({ description: 'Why, kept in the history.', helpValue: '<text>' }),
    by: Flags.string({ description: 'Who rolls back (default: the OS user).', helpValue: '<name>' }),
    ...dataDirFlag,
  };

  async run(): Promise<PolicyRollbackResult> {
    const { args, flags } = await this.parse(PolicyRollback);
    const store = await openPolicyStore(await resolveDataDir(flags['data-dir']));
    let version: PolicyVersion | null;
    try {
      version = await store.policies.rollback(args.version, { pushedBy: await pusher(flags.by), pushedAt: new Date().toISOString(), note: flags.note ?? null });
    } finally {
      await store.close();
    }
    if (version === null) {
      throw new AgentGuardError('STORE_POLICY_NOT_FOUND', `there is no policy version ${args.version}`, { actions: ['List the versions with `agentguard policy history`.'] });
    }
    if (!this.jsonEnabled()) process.stdout.write(`${paint.green('Rolled back')}: ${renderVersion(version)}\n`);
    return version;
  }
}
