import { Flags } from '@oclif/core';
import { auditFilterFlags, auditTimeFlags, dataDirFlag, openAuditStore } from '../../cli/audit-flags.js';
import { BaseCommand } from '../../cli/base-command.js';
import { columnWidths, renderHeading, renderRow } from '../../cli/render-audit.js';
import { parseAuditFilters } from '../../core/audit/filters.js';
import type { AuditRecord } from '../../core/audit/types.js';

/** `--json` output: the matching records as stored (seq, hash and prevHash included), newest first. */
export type AuditQueryResult = AuditRecord[];

const DEFAULT_LIMIT = 100;

const messages = {
  summary: 'Find audit records by agent, effect, rule and time.',
  description: `Prints the newest matching records first: sequence number, time (UTC), agent, effect (or the outcome of an action that ran), the action and the rules that decided it. --json prints the records as stored, including their hashes.

Times for --since and --until are ISO 8601 dates or times (UTC unless they carry an offset) or durations back from now: 30s, 15m, 2h, 7d, 2w, 1h30m. --since is inclusive, --until exclusive.`,
  noMatch: 'No audit records match.',
  more: (n: number) => `Showing the newest ${n} matching records; there may be more: raise --limit, or use \`agentguard audit export\` for all of them.`,
};

export default class AuditQueryCommand extends BaseCommand {
  static summary = messages.summary;
  static description = messages.description;
  static examples = [
    { description: 'What was denied in the last hour', command: '<%= config.bin %> <%= command.id %> --effect deny --since 1h' },
    { description: 'Everything one agent did on a day, as JSON', command: '<%= config.bin %> <%= command.id %> --agent support-bot --since 2025-01-31 --until 2025-02-01 --limit 1000 --json' },
    { description: 'Which decisions a rule took part in', command: '<%= config.bin %> <%= command.id %> --rule no-destructive-sql' },
  ];

  static flags = {
    ...auditFilterFlags,
    ...auditTimeFlags,
    limit: Flags.string({ char: 'l', description: 'At most this many records (the newest).', default: String(DEFAULT_LIMIT), helpValue: '<n>' }),
    ...dataDirFlag,
  };

  async run(): Promise<AuditQueryResult> {
    const { flags } = await this.parse(AuditQueryCommand);
    // Flags are checked before anything is opened, so a typo is a usage error even when there is no database.
    const { agent, effect, rule, type, since, until } = flags;
    const query = parseAuditFilters({ agent, effect, rule, type, since, until, limit: flags.limit });
    const limit = query.limit ?? DEFAULT_LIMIT;
    const store = await openAuditStore(flags['data-dir']);
    let records: AuditRecord[];
    try {
      // A fleet's store holds one chain per instance: query them all, merged by time.
      records = store.queryAllChains ? await store.queryAllChains({ ...query, limit, order: 'desc' }) : await store.audit.query({ ...query, limit, order: 'desc' });
    } finally {
      await store.close();
    }
    if (!this.jsonEnabled()) {
      if (records.length === 0) {
        this.note(messages.noMatch);
      } else {
        const widths = columnWidths(records);
        process.stdout.write(`${renderHeading(widths)}\n${records.map((r) => renderRow(r, widths)).join('\n')}\n`);
        if (records.length === limit) this.note(messages.more(limit));
      }
    }
    return records;
  }
}
