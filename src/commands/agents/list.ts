import { Flags } from '@oclif/core';
import { dataDirFlag, resolveDataDir } from '../../cli/data-dir.js';
import { BaseCommand } from '../../cli/base-command.js';
import { paint } from '../../cli/style.js';
import { readRegistry } from '../../core/agents/open-registry.js';
import type { AgentEntry } from '../../core/agents/registry.js';
import { renderTable } from '../../cli/table.js';

/** `--json` output: the matching entries with every field, most recently seen first. */
export type AgentsListResult = AgentEntry[];

const messages = {
  summary: 'List the agents agentguard knows: found by `agentguard scan` or registered by hand.',
  description: `Shows each agent's id, name, kind, frameworks, status (secured: it goes through agentguard; unsecured: it does not; unknown: it cannot be told) and when it was last seen (UTC). Deregistered agents, and processes that have exited (gone: a later scan that listed every process did not find them), are hidden unless --all is given.

Use an id with \`agentguard agents show\` for every detail.`,
  noDatabase: (dataDir: string) =>
    `No agents known in ${dataDir} yet. Run \`agentguard scan\` to find the agents on this machine, or register one with \`agentguard agents register NAME\`.`,
  noMatch: 'No agents match.',
};

export default class AgentsList extends BaseCommand {
  static summary = messages.summary;
  static description = messages.description;
  static examples = [
    { description: 'Every known agent', command: '<%= config.bin %> <%= command.id %>' },
    { description: 'The agents that do not go through agentguard, as JSON', command: '<%= config.bin %> <%= command.id %> --status unsecured --json' },
  ];

  static flags = {
    status: Flags.string({ description: 'Only agents with this status.', options: ['secured', 'unsecured', 'unknown'] }),
    all: Flags.boolean({ description: 'Include deregistered agents and processes that have exited.' }),
    ...dataDirFlag,
  };

  async run(): Promise<AgentsListResult> {
    const { flags } = await this.parse(AgentsList);
    const dataDir = await resolveDataDir(flags['data-dir']);
    const status = flags.status as AgentEntry['status'] | undefined;
    const entries = await readRegistry(dataDir, (registry) => registry.list({ status, includeDeregistered: flags.all, includeGone: flags.all }));
    if (!this.jsonEnabled()) {
      if (entries === null) this.note(messages.noDatabase(dataDir));
      else if (entries.length === 0) this.note(messages.noMatch);
      else process.stdout.write(renderAgentTable(entries));
    }
    return entries ?? [];
  }
}

function frameworks(entry: AgentEntry): string {
  if (entry.frameworks.length === 0) return '-';
  return entry.frameworks.map((f) => (f.version === undefined ? f.name : `${f.name}@${f.version}`)).join(', ');
}

function statusCell(entry: AgentEntry): string {
  if (entry.deregisteredAt !== null) return `${entry.status} (deregistered)`;
  return entry.goneAt === null ? entry.status : `${entry.status} (gone)`;
}

function renderAgentTable(entries: AgentEntry[]): string {
  const heading = ['ID', 'NAME', 'KIND', 'FRAMEWORKS', 'STATUS', 'LAST SEEN (UTC)'];
  const rows = entries.map((e) => [e.id, e.name, e.kind, frameworks(e), statusCell(e), `${e.lastSeen.slice(0, 10)} ${e.lastSeen.slice(11, 16)}`]);
  const rowPaint = (i: number) => {
    const entry = entries[i];
    if (entry.deregisteredAt !== null || entry.goneAt !== null) return paint.dim;
    return entry.status === 'unsecured' ? paint.yellow : undefined;
  };
  return renderTable(heading, rows, { rowPaint });
}
