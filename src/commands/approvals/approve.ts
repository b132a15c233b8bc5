import { decideApproval, decideArgs, decideFlags, renderDecided, renderNotified } from '../../cli/approvals.js';
import { BaseCommand } from '../../cli/base-command.js';
import { resolveDataDir } from '../../cli/data-dir.js';
import type { ApprovalRecord } from '../../core/approvals/types.js';

/** `--json` output: the approval as it is after approving. */
export type ApprovalsApproveResult = ApprovalRecord;

export default class ApprovalsApprove extends BaseCommand {
  static summary = 'Approve a pending approval: the action it is for may then run, once.';
  static description = `The approval authorises exactly the action it was asked for (same agent, name, input and context), one run. The change is recorded in the audit trail with your name (--by, default $USER) and comment.

Exit codes: 0 approved; 1 no such approval, or it is no longer pending (approved, denied, expired or cancelled already); 2 usage.`;

  static examples = [
    { description: 'Approve with a comment', command: '<%= config.bin %> <%= command.id %> apr_0123456789abcdef0123456789abcdef --comment "vendor verified"' },
    { description: 'Approve as someone else than $USER', command: '<%= config.bin %> <%= command.id %> apr_0123456789abcdef0123456789abcdef --by alice@example.com' },
  ];

  static args = decideArgs;
  static flags = decideFlags;

  async run(): Promise<ApprovalsApproveResult> {
    const { args, flags } = await this.parse(ApprovalsApprove);
    const { record, notified } = await decideApproval(await resolveDataDir(flags['data-dir']), args.id, 'approved', flags);
    if (!this.jsonEnabled()) process.stdout.write(renderDecided(record));
    const line = renderNotified(notified);
    if (line !== '') this.note(line);
    return record;
  }
}
