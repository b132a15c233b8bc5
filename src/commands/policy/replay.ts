import { Flags } from '@oclif/core';
import { dataDirFlag, openAuditStore } from '../../cli/audit-flags.js';
import { BaseCommand } from '../../cli/base-command.js';
import { renderReplay } from '../../cli/render-replay.js';
import { replayFilter, replayFlags } from '../../cli/replay-flags.js';
import { resolveDataDir } from '../../cli/data-dir.js';
import { loadProjectConfig } from '../../core/config/project-config.js';
import { Policy } from '../../core/policy/policy.js';
import type { ReplayReport } from '../../core/replay/replay.js';

/** `--json` output: the whole report, every change and every "cannot tell" included. */
export type PolicyReplayResult = ReplayReport;

export default class PolicyReplay extends BaseCommand {
  static summary = 'Re-decide the recorded decisions under a candidate policy and report what would change.';
  static description = `Reads the decisions in the audit trail (oldest first; --since, --until, --agent narrow them), decides each recorded action again under --policy with the same engine pipeline, and reports every decision whose effect would change: from → to, counts per transition and per rule, and examples. Writes nothing: no audit record, no budget, no approval, no rate-limit slot (rate limits are counted in memory in recorded order, at the recorded times, starting empty).

Secrets were masked before the actions were stored. A decision that depends on a masked value under the candidate (a condition reads a masked field, and its outcome could differ) is reported as "cannot tell", never guessed. Decisions made outside the policy (budgets, an audit record that failed, …) are counted but not compared. Transform decisions were recorded with the transformed action, and are replayed on it.

--fail-on-change exits with 1 when any decision would change: a CI gate for policy changes.`;

  static examples = [
    { description: 'What the candidate would change over the last week', command: '<%= config.bin %> <%= command.id %> --policy agentguard/policy.next.yaml --since 7d' },
    { description: 'Fail CI when one agent\'s recorded decisions would change', command: '<%= config.bin %> <%= command.id %> --policy agentguard/policy.yaml --agent support-bot --fail-on-change' },
    { description: 'Every change as JSON', command: '<%= config.bin %> <%= command.id %> --policy candidate.yaml --json' },
  ];

  static flags = {
    policy: Flags.string({ char: 'p', description: 'The candidate policy file.', required: true }),
    ...replayFlags,
    ...dataDirFlag,
  };

  async run(): Promise<PolicyReplayResult> {
    const { flags } = await this.parse(PolicyReplay);
    const filter = replayFilter(flags);
    const project = await loadProjectConfig();
    const policy = await Policy.fromFile(flags.policy);
    const report = await replayAudit(policy, filter, flags['data-dir'], project.config.guardrails?.budgetMs, (n) => this.note(`${n.toLocaleString('en-US')} decisions replayed…`));
    if (!this.jsonEnabled()) process.stdout.write(`${renderReplay(report, { examples: flags.examples, file: flags.policy })}\n`);
    if (flags['fail-on-change'] && report.changed > 0) process.exitCode = 1;
    return report;
  }
}

/** Opens the data folder's store for reading and replays its decisions under `policy`. */
export async function replayAudit(
  policy: Policy,
  filter: ReturnType<typeof replayFilter>,
  dataDirFlagValue: string | undefined,
  guardrailBudgetMs: number | undefined,
  progress: (n: number) => void,
): Promise<ReplayReport> {
  const [{ replayDecisions }, { decisionRows }] = await Promise.all([import('../../core/replay/replay.js'), import('../../core/replay/records.js')]);
  const dataDir = await resolveDataDir(dataDirFlagValue);
  const store = await openAuditStore(dataDirFlagValue);
  try {
    return await replayDecisions({
      policy,
      records: decisionRows(store.audit, filter),
      dataDir,
      ...(guardrailBudgetMs !== undefined ? { guardrailBudgetMs } : {}),
      onProgress: progress,
      progressEvery: 50_000,
    });
  } finally {
    await store.close();
  }
}
