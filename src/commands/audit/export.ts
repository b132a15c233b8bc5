import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import { createExporter, EXPORT_FORMATS, writeExport, type ExportFormat } from '../../core/audit/export/index.js';
import { parseAuditFilters } from '../../core/audit/filters.js';
import type { AuditQuery, AuditRecord } from '../../core/audit/types.js';
import { AgentGuardError } from '../../core/errors.js';
import type { Store } from '../../core/store/store.js';
import { auditFilterFlags, auditTimeFlags, dataDirFlag, openAuditStore } from '../../cli/audit-flags.js';

/** `--json` output (needs --out, since without it stdout carries the export itself). */
export interface AuditExportResult {
  format: ExportFormat;
  /** Records written. */
  records: number;
  /** Absolute path of the file written. */
  file: string;
}

const PAGE = 1000;

const messages = {
  summary: 'Export audit records as JSON Lines, CSV, CEF or OCSF, for a SIEM or a spreadsheet.',
  description: `Streams the matching records, oldest first, to stdout or to --out, in constant memory whatever the size of the log. Formats: jsonl, one record per line exactly as stored (with seq, prevHash and hash), so it can be verified again; csv, RFC 4180 with a header row, where cells a spreadsheet would run as a formula get a leading '; cef, ArcSight Common Event Format, one event per line; ocsf, OCSF 1.9 API Activity events (class 6003), one JSON object per line.

docs/audit-export.md lists which record field goes where in CEF and OCSF. The filters are those of \`audit query\`; without --limit every matching record is exported, with --limit the newest N (which are held in memory). Long exports report progress on stderr, and every export ends with the number of records written.`,
  jsonNeedsOut: '--json needs --out: without it the export itself goes to stdout',
  jsonNeedsOutActions: ['Pass --out <file> to write the export to a file and print the summary as JSON, or leave out --json.'],
  cannotWrite: (file: string, code?: string) => `cannot write ${file}${code ? ` (${code})` : ''}`,
  progress: (n: number) => `Exporting… ${n.toLocaleString('en-US')} records`,
  done: (n: number, format: string, where: string) => `Exported ${n.toLocaleString('en-US')} record${n === 1 ? '' : 's'} as ${format} ${where}.`,
};

/** Every matching record, oldest first, one page at a time. */
async function* pagedRecords(store: Store, filter: AuditQuery): AsyncIterable<AuditRecord> {
  if (store.scanAllChains) {
    // A fleet's store: every instance's chain, merged by time.
    yield* store.scanAllChains({ ...filter, order: 'asc' });
    return;
  }
  let afterSeq = 0;
  for (;;) {
    const page = await store.audit.query({ ...filter, afterSeq, order: 'asc', limit: PAGE });
    yield* page;
    if (page.length < PAGE) return;
    afterSeq = page[page.length - 1].seq;
  }
}

/** Progress on stderr for exports that take a while: a rewritten line on a terminal, a line every few seconds in logs. */
function progressReporter(enabled: boolean): { tick: (n: number) => void; clear: () => void } {
  const start = Date.now();
  const tty = process.stderr.isTTY;
  let last = start;
  let shown = false;
  return {
    tick(n) {
      if (!enabled) return;
      const now = Date.now();
      if (now - start < 1000 || now - last < (tty ? 200 : 5000)) return;
      last = now;
      shown = true;
      process.stderr.write(tty ? `\r${messages.progress(n)}` : `${messages.progress(n)}\n`);
    },
    clear() {
      if (shown && tty) process.stderr.write('\r\x1b[K');
    },
  };
}

export default class AuditExport extends BaseCommand {
  static summary = messages.summary;
  static description = messages.description;
  static examples = [
    { description: 'Everything, as JSON Lines, to a file', command: '<%= config.bin %> <%= command.id %> --format jsonl --out audit.jsonl' },
    { description: 'Last week\'s denials as CSV for a spreadsheet', command: '<%= config.bin %> <%= command.id %> --format csv --effect deny --since 7d --out denials.csv' },
    { description: 'Ship OCSF events to a collector', command: '<%= config.bin %> <%= command.id %> --format ocsf --since 1h | curl -sS -X POST --data-binary @- https://collector.example/ocsf' },
  ];

  static flags = {
    format: Flags.string({ char: 'F', description: 'Output format.', options: [...EXPORT_FORMATS], required: true }),
    out: Flags.string({ char: 'o', description: 'Write to this file instead of stdout (replaced only once the export is complete).', helpValue: '<file>' }),
    ...auditFilterFlags,
    ...auditTimeFlags,
    limit: Flags.string({ char: 'l', description: 'Export only the newest N matching records (default: all).', helpValue: '<n>' }),
    ...dataDirFlag,
  };

  async run(): Promise<AuditExportResult | undefined> {
    const { flags } = await this.parse(AuditExport);
    const { agent, effect, rule, type, since, until, limit } = flags;
    const filter = parseAuditFilters({ agent, effect, rule, type, since, until, limit });
    if (this.jsonEnabled() && flags.out === undefined) {
      throw new AgentGuardError('USAGE', messages.jsonNeedsOut, { actions: messages.jsonNeedsOutActions });
    }
    const format = flags.format as ExportFormat;
    const exporter = createExporter(format, { productVersion: this.config.version });
    const store = await openAuditStore(flags['data-dir']);
    const progress = progressReporter(!this.jsonEnabled());
    let count: number;
    let file: string | undefined;
    try {
      // --limit means the newest N: fetch them newest first, then write them in log order.
      const newest = (q: AuditQuery) => (store.queryAllChains ? store.queryAllChains(q) : store.audit.query(q));
      const records = filter.limit !== undefined ? (await newest({ ...filter, order: 'desc' })).reverse() : pagedRecords(store, filter);
      if (flags.out === undefined) {
        count = await this.toStdout(records, exporter, progress.tick);
      } else {
        file = resolve(flags.out);
        count = await toFile(file, records, exporter, progress.tick);
      }
    } finally {
      progress.clear();
      await store.close();
    }
    this.note(messages.done(count, format, file ? `to ${file}` : 'to stdout'));
    return file === undefined ? undefined : { format, records: count, file };
  }

  private async toStdout(records: AsyncIterable<AuditRecord> | AuditRecord[], exporter: ReturnType<typeof createExporter>, tick: (n: number) => void): Promise<number> {
    // The reader can go away (`… | head`, EPIPE): what it read is all it wanted, so stop quietly.
    let closed = false;
    const onError = () => (closed = true);
    process.stdout.on('error', onError);
    async function* untilClosed(): AsyncIterable<AuditRecord> {
      for await (const record of records) {
        if (closed) return;
        yield record;
      }
    }
    let count = 0;
    try {
      return await writeExport(untilClosed(), exporter, process.stdout, (n) => {
        count = n;
        tick(n);
      });
    } catch (error) {
      if (closed) return count;
      throw error;
    } finally {
      process.stdout.removeListener('error', onError);
    }
  }
}

/** Writes the export to a temporary file next to `file` and renames it into place, so a failed export leaves no half file. */
async function toFile(file: string, records: AsyncIterable<AuditRecord> | AuditRecord[], exporter: ReturnType<typeof createExporter>, tick: (n: number) => void): Promise<number> {
  const temp = join(dirname(file), `.${basename(file)}.${process.pid}.partial`);
  const stream = createWriteStream(temp, { flags: 'wx' });
  const failed = new Promise<never>((_, reject) => stream.once('error', reject));
  failed.catch(() => {});
  try {
    await Promise.race([new Promise((ok) => stream.once('open', ok)), failed]);
    const count = await Promise.race([writeExport(records, exporter, stream, tick), failed]);
    await Promise.race([new Promise<void>((ok) => stream.end(ok)), failed]);
    await rename(temp, file);
    return count;
  } catch (error) {
    stream.destroy();
    await rm(temp, { force: true });
    const { code, syscall } = error as NodeJS.ErrnoException;
    if (syscall === undefined) throw error; // not the file: a store error, already explained
    throw new AgentGuardError('EXPORT_WRITE_FAILED', messages.cannotWrite(file, code), {
      actions: ['Check that the folder exists and that you may write to it.'],
      cause: error,
    });
  }
}
