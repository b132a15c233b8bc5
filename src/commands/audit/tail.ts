import { Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import { parseAuditFilters, parseCount } from '../../core/audit/filters.js';
import type { AuditQuery, AuditRecord } from '../../core/audit/types.js';
import type { Store } from '../../core/store/store.js';
import { auditFilterFlags, dataDirFlag, openAuditStore } from '../../cli/audit-flags.js';
import { renderHeading, renderRow } from '../../cli/render-audit.js';
import { pollUntil } from '../../core/poll.js';

/** How often --follow looks for new records. */
export const FOLLOW_INTERVAL_MS = 500;
const PAGE = 1000;
const DEFAULT_LINES = 10;
/** Column widths for rows printed as they arrive (a streamed table cannot measure its rows first). */
const STREAM_WIDTHS = [6, 24, 16, 16, 24];

const messages = {
  summary: 'Show the latest audit records, and with -f keep printing new ones as they are recorded.',
  description: `Prints the last N records (default ${DEFAULT_LINES}) oldest first. With --follow it then checks for new records every ${FOLLOW_INTERVAL_MS} ms and prints them as they arrive, until you press Ctrl-C (or it gets SIGTERM), and exits 0.

--json prints one record per line (JSON Lines), as stored, so the output can be piped into jq or a log shipper.`,
  none: 'No audit records yet.',
  waiting: 'Waiting for new records (Ctrl-C to stop)…',
};

export default class AuditTail extends BaseCommand {
  static summary = messages.summary;
  static description = messages.description;
  static examples = [
    { description: 'The last 10 records', command: '<%= config.bin %> <%= command.id %>' },
    { description: 'Watch denials as they happen', command: '<%= config.bin %> <%= command.id %> -f --effect deny' },
    { description: 'Stream records as JSON Lines into jq', command: "<%= config.bin %> <%= command.id %> -f --json | jq -c '{seq, agentId, effect}'" },
  ];

  static flags = {
    follow: Flags.boolean({ char: 'f', description: 'Keep running and print new records as they are recorded.' }),
    lines: Flags.string({ char: 'n', description: 'How many of the latest records to print first.', default: String(DEFAULT_LINES), helpValue: '<n>' }),
    ...auditFilterFlags,
    ...dataDirFlag,
  };

  /** Aborted by Ctrl-C, SIGTERM or a closed output: ends --follow. */
  private readonly stopping = new AbortController();

  async run(): Promise<void> {
    const { flags } = await this.parse(AuditTail);
    const { agent, effect, rule, type } = flags;
    const filter = parseAuditFilters({ agent, effect, rule, type });
    const lines = parseCount(flags.lines, '--lines');
    const store = await openAuditStore(flags['data-dir']);
    const stop = () => this.stopping.abort();
    // Whoever reads our output went away (`… | head`, EPIPE): stop like on Ctrl-C rather than crash.
    const onOutputError = () => stop();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    process.stdout.on('error', onOutputError);
    try {
      // The head is read first: records arriving while the last N are fetched are left to the follow loop.
      const head = (await store.audit.head())?.seq ?? 0;
      const last = (await store.audit.query({ ...filter, order: 'desc', limit: lines })).filter((r) => r.seq <= head).reverse();
      const human = !this.jsonEnabled();
      if (human && last.length > 0) process.stdout.write(`${renderHeading(STREAM_WIDTHS)}\n`);
      this.print(last);
      if (human && last.length === 0 && !flags.follow) this.note(messages.none);
      if (flags.follow) {
        if (human && process.stderr.isTTY) this.note(messages.waiting);
        await this.follow(store, filter, head, human && last.length === 0);
      }
    } finally {
      process.removeListener('SIGINT', stop);
      process.removeListener('SIGTERM', stop);
      process.stdout.removeListener('error', onOutputError);
      await store.close();
    }
  }

  /** Polls for records after `afterSeq` until a signal arrives; prints the table heading first when `heading`. */
  private async follow(store: Store, filter: AuditQuery, afterSeq: number, heading: boolean): Promise<void> {
    let cursor = afterSeq;
    let headingShown = !heading;
    const { signal } = this.stopping;
    await pollUntil(
      async () => {
        let page: AuditRecord[];
        do {
          // Read the head before querying: every matching record up to it is then in the page (unless it is full).
          const head = (await store.audit.head())?.seq ?? 0;
          page = await store.audit.query({ ...filter, afterSeq: cursor, order: 'asc', limit: PAGE });
          if (page.length > 0 && !headingShown) {
            process.stdout.write(`${renderHeading(STREAM_WIDTHS)}\n`);
            headingShown = true;
          }
          this.print(page);
          const lastSeen = page.length > 0 ? page[page.length - 1].seq : cursor;
          cursor = page.length === PAGE ? lastSeen : Math.max(lastSeen, head);
        } while (page.length === PAGE && !signal.aborted);
        return undefined;
      },
      { intervalMs: FOLLOW_INTERVAL_MS, signal },
    );
  }

  private print(records: AuditRecord[]): void {
    if (records.length === 0) return;
    const text = this.jsonEnabled() ? records.map((r) => JSON.stringify(r)).join('\n') : records.map((r) => renderRow(r, STREAM_WIDTHS)).join('\n');
    process.stdout.write(`${text}\n`);
  }
}
