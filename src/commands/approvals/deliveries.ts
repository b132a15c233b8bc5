import { Flags } from '@oclif/core';
import { renderDeliveryTable, renderNotified, withApprovals } from '../../cli/approvals.js';
import { BaseCommand } from '../../cli/base-command.js';
import { dataDirFlag, resolveDataDir } from '../../cli/data-dir.js';
import type { DeliveryRecord, DeliveryStatus } from '../../core/approvals/deliveries.js';

/** `--json` output: the matching deliveries, newest first, each with the change it carries. */
export type ApprovalsDeliveriesResult = DeliveryRecord[];

const messages = {
  summary: 'List the notifications of approvals (webhook, Slack): sent, waiting for a retry, or failed.',
  description: `Every change of an approval (requested, escalated, approved, denied, expired…) is queued once for each channel under "approvals.notify" in agentguard.config.json that asked for its event. The sidecar sends the queue, retrying failures with growing delays (5 s, 10 s, 20 s… up to 30 min) for 8 attempts; a delivery that still fails, or that the receiver refused outright (4xx), is marked failed and stays here.

--retry puts failed deliveries back in the queue and sends them at once to the channels whose secrets are set in this shell (the sidecar sends the others).

Exit codes: 0 listed; 1 --retry left some failing; 2 usage.`,
  noDatabase: (dataDir: string) => `No notifications in ${dataDir} yet: nothing has asked for an approval.`,
  noMatch: 'No notifications match.',
  retried: (n: number) => `${n} failed notification${n === 1 ? '' : 's'} queued again.`,
};

export default class ApprovalsDeliveries extends BaseCommand {
  static summary = messages.summary;
  static description = messages.description;
  static examples = [
    { description: 'What failed', command: '<%= config.bin %> <%= command.id %> --status failed' },
    { description: 'The notifications of one approval, as JSON', command: '<%= config.bin %> <%= command.id %> --approval apr_0123456789abcdef0123456789abcdef --json' },
    { description: 'Send the failed ones again', command: '<%= config.bin %> <%= command.id %> --retry' },
  ];

  static flags = {
    status: Flags.string({ description: 'Only deliveries with this status.', options: ['pending', 'delivered', 'failed'] }),
    approval: Flags.string({ description: 'Only the deliveries of this approval.', helpValue: '<apr_…>' }),
    limit: Flags.integer({ description: 'At most this many (default 100).', min: 1, max: 10_000, default: 100 }),
    retry: Flags.boolean({ description: 'Queue failed deliveries again and send them now where this shell can.' }),
    ...dataDirFlag,
  };

  async run(): Promise<ApprovalsDeliveriesResult> {
    const { flags } = await this.parse(ApprovalsDeliveries);
    const dataDir = await resolveDataDir(flags['data-dir']);
    const result = await withApprovals(dataDir, async (_approvals, open) => {
      if (flags.retry) {
        const ids = flags.approval === undefined ? undefined : (await open.deliveries.list({ approvalId: flags.approval, status: 'failed' })).map((d) => d.id);
        const count = await open.deliveries.retryFailed(new Date().toISOString(), ids);
        this.note(messages.retried(count));
        const sent = await open.deliverNow();
        const line = renderNotified(sent);
        if (line !== '') this.note(line);
        if (sent.failed + sent.retrying > 0) process.exitCode = 1;
      }
      return open.deliveries.list({ approvalId: flags.approval, status: flags.status as DeliveryStatus | undefined, limit: flags.limit });
    });
    if (!this.jsonEnabled()) {
      if (result === null) this.note(messages.noDatabase(dataDir));
      else if (result.length === 0) this.note(messages.noMatch);
      else process.stdout.write(renderDeliveryTable(result));
    }
    return result ?? [];
  }
}
