import { Args, Flags } from '@oclif/core';
import { resolve } from 'node:path';
import { BaseCommand } from '../../cli/base-command.js';
import { dataDirFlag, resolveDataDir } from '../../cli/data-dir.js';
import { openPolicyStore, pusher, renderVersion, signer, signKeyFlag } from '../../cli/policy-store.js';
import { paint } from '../../cli/style.js';
import type { PolicyVersion } from '../../core/store/store.js';

/** `--json` output: the version now in force. */
export type PolicyPushResult = PolicyVersion;

export default class PolicyPush extends BaseCommand {
  static summary = 'Validate a policy and push it to every sidecar of a fleet (the PostgreSQL store).';
  static description = `Loads and validates the policy file (includes and parameters resolved, regexes checked), then stores it in the fleet's PostgreSQL store as a new version (who, when, its hash) and makes it current. Sidecars started with --policy-from-store switch to it at once (they are told with PostgreSQL NOTIFY) and record its hash in every decision, as they record the hash of any policy. An invalid policy is refused and nothing changes.

With --sign-key the version is signed (Ed25519, a key from \`agentguard policy keygen\`): sidecars started with --trust-policy-key use only versions signed by a key they trust, so write access to the database alone no longer decides which policy is in force.

\`agentguard policy history\` lists the versions; \`agentguard policy rollback <version>\` brings an earlier one back.`;

  static examples = [
    { description: 'Push the project policy to the fleet', command: '<%= config.bin %> <%= command.id %> agentguard/policy.yaml --note "block refunds over $500"' },
    { description: 'Push it signed', command: '<%= config.bin %> <%= command.id %> agentguard/policy.yaml --sign-key ~/.agentguard-policy-key/policy-signing.key.pem' },
  ];

  static args = { file: Args.string({ description: 'The policy file (JSON or YAML).', required: true }) };

  static flags = {
    note: Flags.string({ description: 'Why this version, kept in the history.', helpValue: '<text>' }),
    by: Flags.string({ description: 'Who pushes it (default: the OS user).', helpValue: '<name>' }),
    ...signKeyFlag,
    ...dataDirFlag,
  };

  async run(): Promise<PolicyPushResult> {
    const { args, flags } = await this.parse(PolicyPush);
    const [{ Policy }, { pushedDocument }] = await Promise.all([import('../../core/policy/policy.js'), import('../../core/store/store-policy.js')]);
    // Validated before the store is opened: a bad policy never reaches the fleet.
    const policy = await Policy.fromFile(args.file);
    const sign = await signer(flags['sign-key']);
    const dataDir = await resolveDataDir(flags['data-dir']);
    const fields = { hash: policy.hash, name: policy.name, action: 'push' as const, ofVersion: null, pushedBy: await pusher(flags.by), pushedAt: new Date().toISOString() };
    const store = await openPolicyStore(dataDir);
    let version: PolicyVersion;
    try {
      version = await store.policies.push({
        document: pushedDocument(policy),
        hash: fields.hash,
        name: fields.name,
        pushedBy: fields.pushedBy,
        pushedAt: fields.pushedAt,
        source: resolve(args.file),
        note: flags.note ?? null,
        signature: sign ? sign(fields) : null,
      });
    } finally {
      await store.close();
    }
    if (!this.jsonEnabled()) process.stdout.write(`${paint.green('Pushed')} ${renderVersion(version)}\n`);
    return version;
  }
}
