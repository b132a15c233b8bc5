import { Args, Flags } from '@oclif/core';
import { dataDirFlag, resolveDataDir } from '../../cli/data-dir.js';
import { BaseCommand } from '../../cli/base-command.js';
import { paint } from '../../cli/style.js';
import { writeRegistry } from '../../core/agents/open-registry.js';
import { checkAgentName } from '../../core/agents/registration.js';
import type { AgentEntry } from '../../core/agents/registry.js';
import { AgentGuardError } from '../../core/errors.js';

/** `--json` output: the entry as stored. */
export type AgentsRegisterResult = AgentEntry;

const messages = {
  summary: 'Register an agent by hand, or update one registered before.',
  description: `The agent gets the id agent:NAME. With --agent-id (the id it sends in \`action.agent.id\`) it counts as secured: it goes through agentguard. Without one its status is --status, else unknown.

Registering a name again updates the flags given and keeps the rest; it also undoes \`agentguard agents deregister\`.`,
  registered: (e: AgentEntry) => `Registered ${e.id}: ${e.status}${e.registeredAgentId === null ? '' : `, runs as agent id ${e.registeredAgentId}`}.`,
  emptyFlag: (flag: string) => `--${flag} is empty`,
};

export default class AgentsRegister extends BaseCommand {
  static summary = messages.summary;
  static description = messages.description;
  static examples = [
    { description: 'An agent that goes through agentguard', command: '<%= config.bin %> <%= command.id %> support-bot --agent-id support-bot --framework langchain@0.3.1 --location ~/src/support-bot' },
    { description: 'An agent known not to go through agentguard yet', command: '<%= config.bin %> <%= command.id %> legacy-crawler --status unsecured' },
  ];

  static args = { name: Args.string({ required: true, description: 'A name for the agent; its id becomes agent:NAME.' }) };
  static flags = {
    'agent-id': Flags.string({ description: 'The agentguard agent id it runs as (`action.agent.id`); marks it secured.', helpValue: '<id>' }),
    framework: Flags.string({ description: 'The agent framework or SDK it uses, optionally with a version: langchain@0.3.1.', helpValue: '<name[@version]>' }),
    location: Flags.string({ description: 'Where it lives: a path, a host, a repository.', helpValue: '<where>' }),
    status: Flags.string({ description: 'Its status when no --agent-id is given.', options: ['secured', 'unsecured', 'unknown'] }),
    ...dataDirFlag,
  };

  async run(): Promise<AgentsRegisterResult> {
    const { args, flags } = await this.parse(AgentsRegister);
    const name = checkAgentName(args.name, 'name');
    const agentId = flags['agent-id'] === undefined ? undefined : checkAgentName(flags['agent-id'], 'agent id');
    for (const flag of ['framework', 'location'] as const) {
      if (flags[flag] !== undefined && flags[flag].trim() === '') {
        throw new AgentGuardError('USAGE', messages.emptyFlag(flag), { actions: ['Leave the flag out, or give it a value.'] });
      }
    }
    const dataDir = await resolveDataDir(flags['data-dir']);
    const entry = await writeRegistry(dataDir, (registry) =>
      registry.register(
        { name, agentId, framework: flags.framework, location: flags.location, status: flags.status as AgentEntry['status'] | undefined },
        new Date().toISOString(),
      ),
    );
    if (!this.jsonEnabled()) process.stdout.write(`${paint.green(messages.registered(entry))}\n`);
    return entry;
  }
}
