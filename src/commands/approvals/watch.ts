import { Flags } from '@oclif/core';
import { approverName } from '../../cli/approvals.js';
import { parseInterval } from '../../cli/approvals-watch/interval.js';
import { watchApprovals } from '../../cli/approvals-watch/watch.js';
import { BaseCommand } from '../../cli/base-command.js';
import { dataDirFlag, resolveDataDir } from '../../cli/data-dir.js';
import type { WatchStatus } from '../../cli/approvals-watch/state.js';

const messages = {
  summary: 'Watch approvals live; on a terminal, approve or deny them with a key press.',
  description: `On a terminal (stdin and stdout), shows the pending approvals newest first, with agent, action, a summary of its input, the reason, the time left before it expires (counting down) and ⚑ when it was escalated, refreshed every --interval. Keys: ↑/↓ or j/k select, a approve, d deny (each asks y/n, then for an optional comment), Enter shows the selected approval in full, q or Ctrl-C quits. Decisions are made as --by (default $USER) and recorded in the audit trail, like \`approvals approve\` and \`deny\`; one decided by someone else or expired in the meantime is reported on the screen.

Without a terminal, or with --json, nothing is asked: it prints the pending approvals once, then one line per change as it is seen (requested, escalated, approved, denied, expired, cancelled, consumed), until SIGINT or SIGTERM, and exits 0. --json prints one object per line: {"event": …, "approval": {…}}, event "pending" for those already waiting at the start.

Approvals past their expiry are marked expired (and recorded) at each poll. Exit codes: 0 stopped; 2 usage (such as a bad --interval).`,
};

export default class ApprovalsWatch extends BaseCommand {
  static summary = messages.summary;
  static description = messages.description;
  static examples = [
    { description: 'Decide pending approvals from the terminal', command: '<%= config.bin %> <%= command.id %>' },
    { description: 'Every approval, refreshed every 5 seconds, deciding as alice', command: '<%= config.bin %> <%= command.id %> --status all --interval 5s --by alice' },
    { description: 'Stream changes as JSON lines to another program', command: "<%= config.bin %> <%= command.id %> --json | jq -c '{event, id: .approval.id}'" },
  ];

  static flags = {
    status: Flags.string({ description: 'Which approvals to show: the pending ones, or all (pending first).', options: ['pending', 'all'], default: 'pending' }),
    interval: Flags.string({ description: 'How often to look for changes, between 100ms and 1h (500ms, 1s, 5s, 1m).', default: '1s', helpValue: '<duration>' }),
    by: Flags.string({ description: 'Who decides on the interactive screen (default: $USER, else the OS user name).', helpValue: '<name>' }),
    ...dataDirFlag,
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(ApprovalsWatch);
    const intervalMs = parseInterval(flags.interval);
    await watchApprovals({
      dataDir: await resolveDataDir(flags['data-dir']),
      status: flags.status as WatchStatus,
      intervalMs,
      by: approverName(flags.by),
      json: this.jsonEnabled(),
      stdin: process.stdin,
      stdout: process.stdout,
    });
  }
}
