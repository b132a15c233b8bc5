import { Args } from '@oclif/core';
import { dataDirFlag, resolveDataDir } from '../../cli/data-dir.js';
import { BaseCommand } from '../../cli/base-command.js';
import { readRegistry } from '../../core/agents/open-registry.js';
import { findAgent } from '../../core/agents/registration.js';
import { AgentGuardError } from '../../core/errors.js';

/** `--json` output: the entry's id, when it was deregistered, and whether it already was before this call. */
export interface AgentsDeregisterResult {
  id: string;
  deregisteredAt: string;
  alreadyDeregistered: boolean;
}

const messages = {
  summary: 'Deregister an agent: it no longer counts in `agents list` and `agents status`.',
  description: `Takes an id from \`agentguard agents list\` (or the name of an agent registered by hand). The entry is kept (see \`agents list --all\`), and stays deregistered when a later scan finds it again; \`agentguard agents register\` undoes it for a registered agent.

Exit codes: 0 deregistered (now or before); 1 no such agent.`,
  done: (id: string) => `Deregistered ${id}.`,
  already: (id: string, at: string) => `${id} was already deregistered at ${at}; nothing changed.`,
  notFound: (id: string, dataDir: string) => `no agent with id ${JSON.stringify(id)} in ${dataDir}`,
  notFoundActions: ['List the ids with `agentguard agents list --all`.', 'If the data lives elsewhere, pass --data-dir <folder>.'],
};

export default class AgentsDeregister extends BaseCommand {
  static summary = messages.summary;
  static description = messages.description;
  static examples = [{ description: 'An agent registered by hand', command: '<%= config.bin %> <%= command.id %> legacy-crawler' }];

  static args = { id: Args.string({ required: true, description: 'The agent id (or the name it was registered under).' }) };
  static flags = { ...dataDirFlag };

  async run(): Promise<AgentsDeregisterResult> {
    const { args, flags } = await this.parse(AgentsDeregister);
    const dataDir = await resolveDataDir(flags['data-dir']);
    // Opened without creating: with no database there is nothing to deregister.
    const result = await readRegistry(dataDir, async (registry): Promise<AgentsDeregisterResult | null> => {
      const entry = await findAgent(registry, args.id);
      if (entry === null) return null;
      if (entry.deregisteredAt !== null) return { id: entry.id, deregisteredAt: entry.deregisteredAt, alreadyDeregistered: true };
      const at = new Date().toISOString();
      await registry.deregister(entry.id, at);
      const after = await registry.get(entry.id);
      return { id: entry.id, deregisteredAt: after?.deregisteredAt ?? at, alreadyDeregistered: after?.deregisteredAt !== at };
    });
    if (result === null) {
      throw new AgentGuardError('AGENT_NOT_FOUND', messages.notFound(args.id, dataDir), { actions: messages.notFoundActions });
    }
    if (!this.jsonEnabled()) process.stdout.write(`${result.alreadyDeregistered ? messages.already(result.id, result.deregisteredAt) : messages.done(result.id)}\n`);
    return result;
  }
}
