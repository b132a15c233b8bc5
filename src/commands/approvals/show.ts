import { Args } from '@oclif/core';
import { approvalNotFound, renderApproval, renderDeliveryTable, withApprovals } from '../../cli/approvals.js';
import { BaseCommand } from '../../cli/base-command.js';
import { dataDirFlag, resolveDataDir } from '../../cli/data-dir.js';
import type { DeliveryRecord } from '../../core/approvals/deliveries.js';
import type { ApprovalRecord } from '../../core/approvals/types.js';

/** `--json` output: the approval with every field, and its notifications (newest first). */
export type ApprovalsShowResult = ApprovalRecord & { deliveries: DeliveryRecord[] };

export default class ApprovalsShow extends BaseCommand {
  static summary = 'Show one approval: the action it is for, who may decide, its status and history.';
  static description = `Takes an id from \`agentguard approvals list\`. An approval past its expiry is marked expired (and recorded) first.

Exit codes: 0 shown; 1 no such approval.`;

  static examples = [{ description: 'One approval, as JSON', command: '<%= config.bin %> <%= command.id %> apr_0123456789abcdef0123456789abcdef --json' }];

  static args = { id: Args.string({ required: true, description: 'The approval id (apr_…).' }) };
  static flags = { ...dataDirFlag };

  async run(): Promise<ApprovalsShowResult> {
    const { args, flags } = await this.parse(ApprovalsShow);
    const dataDir = await resolveDataDir(flags['data-dir']);
    const found = await withApprovals(dataDir, async (approvals, open) => {
      const record = await approvals.get(args.id);
      return record === null ? null : { ...record, deliveries: await open.deliveries.list({ approvalId: record.id }) };
    });
    if (found === null) throw approvalNotFound(args.id, dataDir);
    if (!this.jsonEnabled()) {
      process.stdout.write(renderApproval(found));
      if (found.deliveries.length > 0) process.stdout.write(`\n${renderDeliveryTable(found.deliveries)}`);
    }
    return found;
  }
}
