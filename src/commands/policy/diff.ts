import { Args, Flags } from '@oclif/core';
import { dataDirFlag } from '../../cli/data-dir.js';
import { BaseCommand } from '../../cli/base-command.js';
import { renderPolicyDiff } from '../../cli/render-policy-diff.js';
import { renderReplay } from '../../cli/render-replay.js';
import { replayFilter, replayFlags } from '../../cli/replay-flags.js';
import { loadProjectConfig } from '../../core/config/project-config.js';
import { diffPolicies, type PolicyDiff } from '../../core/policy/diff.js';
import { Policy } from '../../core/policy/policy.js';
import type { ReplayReport } from '../../core/replay/replay.js';
import { replayAudit } from './replay.js';

/** `--json` output: the diff, and with --replay the replay of the recorded decisions under the new policy. */
export type PolicyDiffResult = PolicyDiff & { replay?: ReplayReport };

export default class PolicyDiffCommand extends BaseCommand {
  static summary = 'Show the rules added, removed and changed between two policies; --replay shows what the change does to recorded decisions.';
  static description = `Compares two policy files after resolving their includes: rules matched by id are added, removed, or changed (effect, when, transform, rate, approval, message, description; each field's old and new value), and the policy-wide settings default and guardrails. Formatting and key order do not count, nor does rule order (combining does not depend on it).

With --replay, also re-decides the recorded decisions in the audit trail under the new policy, as \`agentguard policy replay\` does (writing nothing), and --fail-on-change exits with 1 when any would change. --exit-code exits with 1 when the policies differ.`;

  static examples = [
    { description: 'What changed between the policy in use and a candidate', command: '<%= config.bin %> <%= command.id %> agentguard/policy.yaml agentguard/policy.next.yaml' },
    { description: 'And what it does to last week\'s decisions', command: '<%= config.bin %> <%= command.id %> agentguard/policy.yaml agentguard/policy.next.yaml --replay --since 7d' },
  ];

  static args = {
    old: Args.string({ description: 'The policy in use.', required: true }),
    new: Args.string({ description: 'The candidate policy.', required: true }),
  };

  static flags = {
    replay: Flags.boolean({ description: 'Also replay the recorded decisions under the new policy (see `agentguard policy replay`).' }),
    'exit-code': Flags.boolean({ description: 'Exit with 1 when the policies differ.' }),
    ...replayFlags,
    ...dataDirFlag,
  };

  async run(): Promise<PolicyDiffResult> {
    const { args, flags } = await this.parse(PolicyDiffCommand);
    const filter = replayFilter(flags);
    const [oldPolicy, newPolicy] = [await Policy.fromFile(args.old), await Policy.fromFile(args.new)];
    const diff = diffPolicies(oldPolicy, newPolicy);
    let replay: ReplayReport | undefined;
    if (flags.replay) {
      const project = await loadProjectConfig();
      replay = await replayAudit(newPolicy, filter, flags['data-dir'], project.config.guardrails?.budgetMs, (n) => this.note(`${n.toLocaleString('en-US')} decisions replayed…`));
    }
    if (!this.jsonEnabled()) {
      process.stdout.write(`${renderPolicyDiff(diff)}\n`);
      if (replay) process.stdout.write(`\n${renderReplay(replay, { examples: flags.examples, file: args.new })}\n`);
    }
    if ((flags['exit-code'] && !diff.same) || (flags['fail-on-change'] && replay !== undefined && replay.changed > 0)) process.exitCode = 1;
    return replay ? { ...diff, replay } : diff;
  }
}
