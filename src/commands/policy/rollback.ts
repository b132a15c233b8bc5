import { Args, Flags } from '@oclif/core';
import { AgentGuardError, BaseCommand } from '../../cli/base-command.js';
import { dataDirFlag, resolveDataDir } from '../../cli/data-dir.js';
import { openPolicyStore, pusher, renderVersion, signer, signKeyFlag } from '../../cli/policy-store.js';
import { paint } from '../../cli/style.js';
import type { PolicyVersion } from '../../core/store/store.js';

/** `--json` output: the new version, which brings the earlier one back. */
export type PolicyRollbackResult = PolicyVersion;

export default class PolicyRollback extends BaseCommand {
  static summary = 'Put an earlier pushed policy version back in force on the fleet.';
  static description =
    'Adds a version that brings back the document of <version> (the history keeps both), and tells every sidecar started with --policy-from-store to switch to it. With --sign-key the new version is signed, as sidecars started with --trust-policy-key require.';
  static examples = [
    { description: 'Back to version 3', command: '<%= config.bin %> <%= command.id %> 3 --note "v4 blocked the refund flow"' },
    { description: 'Back to version 3, signed', command: '<%= config.bin %> <%= command.id %> 3 --sign-key ~/.agentguard-policy-key/policy-signing.key.pem' },
  ];
  static args = { version: Args.integer({ description: 'The version to bring back (see `agentguard policy history`).', required: true, min: 1 }) };
  static flags = {
    note: Flags.string({ description: 'Why, kept in the history.', helpValue: '<text>' }),
    by: Flags.string({ description: 'Who rolls back (default: the OS user).', helpValue: '<name>' }),
    ...signKeyFlag,
    ...dataDirFlag,
  };

  async run(): Promise<PolicyRollbackResult> {
    const { args, flags } = await this.parse(PolicyRollback);
    const sign = await signer(flags['sign-key']);
    const store = await openPolicyStore(await resolveDataDir(flags['data-dir']));
    let version: PolicyVersion | null;
    try {
      const by = { pushedBy: await pusher(flags.by), pushedAt: new Date().toISOString(), note: flags.note ?? null };
      // The signature covers the hash and name of the version brought back, so read them first.
      const target = sign ? await store.policies.get(args.version) : undefined;
      const signature = sign && target ? sign({ hash: target.hash, name: target.name, action: 'rollback', ofVersion: args.version, ...by }) : null;
      version = target === null ? null : await store.policies.rollback(args.version, { ...by, signature });
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
