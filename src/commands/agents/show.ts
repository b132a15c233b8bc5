import { Args } from '@oclif/core';
import { dataDirFlag, resolveDataDir } from '../../cli/data-dir.js';
import { BaseCommand } from '../../cli/base-command.js';
import { paint } from '../../cli/style.js';
import { readRegistry } from '../../core/agents/open-registry.js';
import { findAgent } from '../../core/agents/registration.js';
import type { AgentEntry } from '../../core/agents/registry.js';
import { maskStrings } from '../../core/agents/report-mask.js';
import { AgentGuardError } from '../../core/errors.js';
import { renderFields } from '../../cli/table.js';

/** `--json` output: the entry with every field. */
export type AgentsShowResult = AgentEntry;

const messages = {
  summary: 'Show everything the registry knows about one agent.',
  description: 'Takes an id from `agentguard agents list` (or the name of an agent registered by hand). Exit codes: 0 shown; 1 no such agent.',
  notFound: (id: string, dataDir: string) => `no agent with id ${JSON.stringify(id)} in ${dataDir}`,
  notFoundActions: [
    'List the ids with `agentguard agents list --all`.',
    'Run `agentguard scan` to find the agents on this machine; if the data lives elsewhere, pass --data-dir <folder>.',
  ],
};

export default class AgentsShow extends BaseCommand {
  static summary = messages.summary;
  static description = messages.description;
  static examples = [
    { description: 'A registered agent, by name', command: '<%= config.bin %> <%= command.id %> support-bot' },
    { description: 'A project found by a scan, as JSON', command: '<%= config.bin %> <%= command.id %> project:/home/me/bot --json' },
  ];

  static args = { id: Args.string({ required: true, description: 'The agent id (or the name it was registered under).' }) };
  static flags = { ...dataDirFlag };

  async run(): Promise<AgentsShowResult> {
    const { args, flags } = await this.parse(AgentsShow);
    const dataDir = await resolveDataDir(flags['data-dir']);
    const entry = await readRegistry(dataDir, (registry) => findAgent(registry, args.id));
    if (entry === null) {
      throw new AgentGuardError('AGENT_NOT_FOUND', messages.notFound(args.id, dataDir), { actions: messages.notFoundActions });
    }
    if (!this.jsonEnabled()) process.stdout.write(render(entry));
    return maskStrings(entry);
  }
}

function render(unmasked: AgentEntry): string {
  // The registry masks what it stores and reads; masked again here, where it leaves, like every scan output.
  const e = maskStrings(unmasked);
  const fields: Array<[string, string]> = [
    ['id', e.id],
    ['name', e.name],
    ['kind', e.kind],
    ['status', e.status],
    ['risk', e.risk],
    ['source', e.source],
    ['frameworks', e.frameworks.length === 0 ? '-' : e.frameworks.map((f) => (f.version === undefined ? f.name : `${f.name}@${f.version}`)).join(', ')],
    ['location', e.location ?? '-'],
    ['runs as agent id', e.registeredAgentId ?? '-'],
    ['first seen', e.firstSeen],
    ['last seen', e.lastSeen],
    ['deregistered', e.deregisteredAt ?? 'no'],
    ['gone', e.goneAt === null ? 'no' : `since ${e.goneAt} (a scan of every process no longer found it)`],
  ];
  let text = renderFields(fields);
  text += `\n${paint.bold('notes:')}${e.notes.length === 0 ? ' none' : `\n${e.notes.map((n) => `  * ${n}`).join('\n')}`}`;
  const details = JSON.stringify(e.details, null, 2);
  text += `\n${paint.bold('details:')}${details === '{}' ? ' none' : `\n${details.replace(/^/gm, '  ')}`}\n`;
  return text;
}
