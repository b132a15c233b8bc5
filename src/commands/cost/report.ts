import { writeFile } from 'node:fs/promises';
import { Flags } from '@oclif/core';
import { auditTimeFlags, dataDirFlag, openAuditStore } from '../../cli/audit-flags.js';
import { BaseCommand } from '../../cli/base-command.js';
import { renderReport, reportCsv } from '../../cli/cost-render.js';
import { parseTimeBound } from '../../core/audit/filters.js';
import { costReport, REPORT_GROUPS, type CostReport, type ReportGroup } from '../../core/cost/report.js';
import { formatUsd } from '../../core/cost/format-usd.js';
import { AgentGuardError } from '../../core/errors.js';

export default class CostReportCommand extends BaseCommand {
  static summary = 'What LLM calls cost, by model, agent, project, user or period.';
  static description = `Totals from the cost ledger: one row per LLM call that went through a guarded client or reported usage to the sidecar, priced when it ended. Rows whose usage was estimated (a stream cut before the provider reported it) and calls of models without a price are counted and marked.

Times for --since and --until are ISO 8601 dates or times (UTC unless they carry an offset) or durations back from now: 2h, 7d, 2w.`;
  static examples = [
    { description: 'Spend per model over the last week', command: '<%= config.bin %> <%= command.id %> --since 7d' },
    { description: 'Spend per agent per day, as CSV for a spreadsheet', command: '<%= config.bin %> <%= command.id %> --by day --format csv --out cost.csv' },
  ];

  static flags = {
    ...auditTimeFlags,
    by: Flags.string({ description: `Group by: ${REPORT_GROUPS.join(', ')}.`, default: 'model', helpValue: '<group>' }),
    format: Flags.string({ description: 'table (default), csv or json.', default: 'table', helpValue: '<format>' }),
    out: Flags.string({ char: 'o', description: 'Write the report to this file instead of the terminal.', helpValue: '<file>' }),
    timezone: Flags.string({ description: 'Time zone of days, weeks and months (IANA name, default UTC).', default: 'UTC', helpValue: '<zone>' }),
    ...dataDirFlag,
  };

  async run(): Promise<CostReport> {
    const { flags } = await this.parse(CostReportCommand);
    if (!(REPORT_GROUPS as readonly string[]).includes(flags.by)) throw usage(`--by ${JSON.stringify(flags.by)} is not a grouping`, `Use one of: ${REPORT_GROUPS.join(', ')}.`);
    if (!['table', 'csv', 'json'].includes(flags.format)) throw usage(`--format ${JSON.stringify(flags.format)} is not a format`, 'Use table, csv or json.');
    const { IANAZone } = await import('luxon');
    if (!IANAZone.isValidZone(flags.timezone)) throw usage(`--timezone ${JSON.stringify(flags.timezone)} is not an IANA time zone`, 'Use e.g. UTC, Europe/Berlin or America/New_York.');
    const since = flags.since === undefined ? undefined : parseTimeBound(flags.since, '--since');
    const until = flags.until === undefined ? undefined : parseTimeBound(flags.until, '--until');
    const store = await openAuditStore(flags['data-dir']);
    let report: CostReport;
    try {
      const entries = await store.cost.ledger({ ...(since ? { since } : {}), ...(until ? { until } : {}) });
      report = costReport(entries, flags.by as ReportGroup, { since, until, zone: flags.timezone });
    } finally {
      await store.close();
    }
    const text = flags.format === 'csv' ? reportCsv(report) : flags.format === 'json' ? `${JSON.stringify(report, null, 2)}\n` : `${renderReport(report)}\n`;
    if (flags.out) {
      await writeFile(flags.out, text);
      this.note(`Wrote the report (${report.total.calls} calls, ${formatUsd(report.total.costUsd)}) to ${flags.out}.`);
    } else if (!this.jsonEnabled()) {
      if (report.total.calls === 0 && flags.format === 'table') this.note('No LLM calls in the ledger for this range.');
      else process.stdout.write(text);
    }
    return report;
  }
}

function usage(message: string, fix: string): AgentGuardError {
  return new AgentGuardError('USAGE', message, { actions: [fix] });
}
