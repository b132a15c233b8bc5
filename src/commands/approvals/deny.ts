import { decideApproval, decideArgs, decideFlags, renderDecided, renderNotified } from '../../cli/approvals.js';
import { BaseCommand } from '../../cli/base-command.js';
import { resolveDataDir } from '../../cli/data-dir.js';
import type { ApprovalRecord } from '../../core/approvals/types.js';

/** `--json` output: the approval as it is after denying. */
export type ApprovalsDenyResult = ApprovalRecord;

export default class ApprovalsDeny extends BaseCommand {
  static summary = 'Deny a pending approval: the action it is for does not run.';
  static description = `The change is recorded in the audit trail with your name (--by, default $USER) and comment.

Exit codes: 0 denied; 1 no such approval, or it is no longer pending (approved, denied, expired or cancelled already); 2 usage.`;

  static examples = [{ description: 'Deny with a reason', command: '<%= config.bin %> <%= command.id %> apr_0123456789abcdef0123456789abcdef --comment "amount does not match the invoice"' }];

  static args = decideArgs;
  static flags = decideFlags;

  async run(): Promise<ApprovalsDenyResult> {
    const { args, flags } = await this.parse(ApprovalsDeny);
    const { record, notified } = await decideApproval(await resolveDataDir(flags['data-dir']), args.id, 'denied', flags);
    if (!this.jsonEnabled()) process.stdout.write(renderDecided(record));
    const line = renderNotified(notified);
    if (line !== '') this.note(line);
    return record;
  }
}
