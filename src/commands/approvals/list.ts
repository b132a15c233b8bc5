import { Flags } from '@oclif/core';
import { APPROVAL_STATUSES, renderApprovalTable, withApprovals } from '../../cli/approvals.js';
import { BaseCommand } from '../../cli/base-command.js';
import { dataDirFlag, resolveDataDir } from '../../cli/data-dir.js';
import type { ApprovalRecord, ApprovalStatus } from '../../core/approvals/types.js';

/** `--json` output: the matching approvals with every field, newest request first. */
export type ApprovalsListResult = ApprovalRecord[];

const messages = {
  summary: 'List approvals of require_approval decisions.',
  description: `Shows each approval's id, status, agent, action, the rules that asked for it, and when it was requested and expires (UTC). Approvals past their expiry are marked expired (and recorded in the audit trail) first, so none reads as pending after its timeout.

Use an id with \`agentguard approvals show\`, \`approve\` or \`deny\`.`,
  noDatabase: (dataDir: string) => `No approvals in ${dataDir} yet: nothing has asked for one.`,
  noMatch: 'No approvals match.',
};

export default class ApprovalsList extends BaseCommand {
  static summary = messages.summary;
  static description = messages.description;
  static examples = [
    { description: 'Every approval', command: '<%= config.bin %> <%= command.id %>' },
    { description: 'The ones waiting for a person, as JSON', command: '<%= config.bin %> <%= command.id %> --status pending --json' },
  ];

  static flags = {
    status: Flags.string({ description: 'Only approvals with this status.', options: [...APPROVAL_STATUSES] }),
    ...dataDirFlag,
  };

  async run(): Promise<ApprovalsListResult> {
    const { flags } = await this.parse(ApprovalsList);
    const dataDir = await resolveDataDir(flags['data-dir']);
    const status = flags.status as ApprovalStatus | undefined;
    const records = await withApprovals(dataDir, (approvals) => approvals.list({ status }));
    if (!this.jsonEnabled()) {
      if (records === null) this.note(messages.noDatabase(dataDir));
      else if (records.length === 0) this.note(messages.noMatch);
      else process.stdout.write(renderApprovalTable(records));
    }
    return records ?? [];
  }
}
