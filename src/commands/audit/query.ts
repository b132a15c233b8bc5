import { resolve } from 'node:path';
import { Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import { paint } from '../../cli/style.js';
import type { Effect } from '../../core/action.js';
import { actionLabel, viewRecord } from '../../core/audit/export/view.js';
import { parseAuditFilters } from '../../core/audit/filters.js';
import type { AuditRecord } from '../../core/audit/types.js';
import { loadProjectConfig } from '../../core/config/project-config.js';
import { AgentGuardError, isAgentGuardError } from '../../core/errors.js';
import type { Store } from '../../core/store/store.js';

/** `--json` output: the matching records as stored (seq, hash and prevHash included), newest first. */
export type AuditQueryResult = AuditRecord[];

const DEFAULT_LIMIT = 100;

const messages = {
  summary: 'Find audit records by agent, effect, rule and time.',
  description: `Prints the newest matching records first: sequence number, time (UTC), agent, effect (or the outcome of an action that ran), the action and the rules that decided it. --json prints the records as stored, including their hashes.

Times for --since and --until are ISO 8601 dates or times (UTC unless they carry an offset) or durations back from now: 30s, 15m, 2h, 7d, 2w, 1h30m. --since is inclusive, --until exclusive.`,
  noDatabase: (file: string) => `no audit log yet: there is no agentguard database at ${file}`,
  noDatabaseActions: [
    'Run `agentguard init` to set up the project, then record decisions: with the SDK (`new AgentGuard({ policy, agentId })`) or `agentguard policy simulate --record`.',
    'If the data lives elsewhere, pass --data-dir <folder> or set "dataDir" in agentguard.config.json.',
  ],
  noMatch: 'No audit records match.',
  more: (n: number) => `Showing the newest ${n} matching records; there may be more: raise --limit, or use \`agentguard audit export\` for all of them.`,
};

/** The filter flags shared by `audit query`, `audit tail` and `audit export`. */
export const auditFilterFlags = {
  agent: Flags.string({ description: 'Only records of this agent id.', helpValue: '<id>' }),
  effect: Flags.string({ description: 'Only decisions with this effect: allow, deny, transform or require_approval.', helpValue: '<effect>' }),
  rule: Flags.string({ description: 'Only decisions this rule id took part in.', helpValue: '<id>' }),
  type: Flags.string({ description: 'Only records of this type: decision or outcome (what happened when an allowed action ran).', helpValue: '<type>' }),
};

/** The time-range flags of `audit query` and `audit export`. */
export const auditTimeFlags = {
  since: Flags.string({ description: 'Only records at or after this time: 2025-01-31, 2025-01-31T14:00:00Z, or back from now: 15m, 2h, 7d.', helpValue: '<time>' }),
  until: Flags.string({ description: 'Only records before this time (same forms as --since).', helpValue: '<time>' }),
};

export const dataDirFlag = {
  'data-dir': Flags.string({ description: 'The agentguard data folder (default: "dataDir" from agentguard.config.json, else .agentguard).', helpValue: '<folder>' }),
};

/** Opens the store of the data folder for reading; a missing database is exit 2 with where it looked. */
export async function openAuditStore(dataDirFlag: string | undefined): Promise<Store> {
  const dataDir = dataDirFlag === undefined ? (await loadProjectConfig()).paths.dataDir : resolve(dataDirFlag);
  // The store is a native module: load it only in commands that use it.
  const { databasePath, openStore } = await import('../../core/store/open-store.js');
  try {
    return await openStore({ dataDir, create: false });
  } catch (error) {
    if (isAgentGuardError(error) && error.code === 'STORE_NOT_FOUND') {
      throw new AgentGuardError('STORE_NOT_FOUND', messages.noDatabase(databasePath({ dataDir })), { actions: messages.noDatabaseActions, exitCode: 2, cause: error });
    }
    throw error;
  }
}

const EFFECT_PAINT: Record<Effect, (s: string) => string> = { allow: paint.green, deny: paint.red, transform: paint.cyan, require_approval: paint.yellow };

/** The cells of one record in the human table, and the colour of its effect cell. */
function cells(r: AuditRecord): { text: string[]; paintEffect: (s: string) => string } {
  const view = viewRecord(r);
  const isDecision = r.type === 'decision' && r.effect !== null;
  const effect = isDecision ? r.effect! : `→ ${view.status ?? 'outcome'}`;
  const paintEffect = isDecision ? (EFFECT_PAINT[r.effect!] ?? String) : view.status === 'error' ? paint.red : paint.dim;
  return { text: [String(r.seq), r.time, r.agentId ?? '-', effect, isDecision ? actionLabel(view) : (view.name ?? '?'), r.rules.join(', ')], paintEffect };
}

/** Column widths that fit these records (for a table printed at once), never narrower than the headings. */
export function columnWidths(records: AuditRecord[]): number[] {
  const widths = [3, 4, 5, 6, 6];
  for (const r of records) cells(r).text.slice(0, 5).forEach((c, i) => (widths[i] = Math.max(widths[i], c.length)));
  return widths;
}

/** One table line: cells padded to `widths` (the last column unpadded), effects coloured. */
export function renderRow(r: AuditRecord, widths: number[]): string {
  const { text, paintEffect } = cells(r);
  const padded = text.map((cell, i) => (i < widths.length ? cell.padEnd(widths[i]) : cell));
  padded[0] = text[0].padStart(widths[0]);
  padded[3] = paintEffect(padded[3]);
  return padded.join('  ').trimEnd();
}

/** The heading line of the table. */
export function renderHeading(widths: number[]): string {
  return paint.bold(['SEQ'.padStart(widths[0]), 'TIME'.padEnd(widths[1]), 'AGENT'.padEnd(widths[2]), 'EFFECT'.padEnd(widths[3]), 'ACTION'.padEnd(widths[4]), 'RULES'].join('  '));
}

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
      records = await store.audit.query({ ...query, limit, order: 'desc' });
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
