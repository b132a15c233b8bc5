import { dataDirFlag, resolveDataDir } from '../../cli/data-dir.js';
import { BaseCommand } from '../../cli/base-command.js';
import { paint } from '../../cli/style.js';
import { readRegistry } from '../../core/agents/open-registry.js';
import { describeCoverage } from '../../core/agents/registration.js';
import type { AgentEntry, AgentSummary } from '../../core/agents/registry.js';

/** `--json` output: the counts (deregistered agents excluded), coverage as a fraction (null when none is known), the sentence, and the unsecured agents. */
export interface AgentsStatusResult extends AgentSummary {
  text: string;
  unsecuredAgents: AgentEntry[];
}

const EMPTY: AgentSummary = { total: 0, secured: 0, unsecured: 0, unknown: 0, coverage: null };

const messages = {
  summary: 'How many known agents go through agentguard: coverage, counts by status, and the unsecured ones.',
  description: `Coverage is secured / (secured + unsecured): agents whose status cannot be told (such as a local model server) are counted apart. Deregistered agents, and processes that have exited (gone), are left out.

Run \`agentguard scan\` first to find the agents on this machine.`,
  noDatabase: (dataDir: string) => `No agents known in ${dataDir} yet. Run \`agentguard scan\` to find the agents on this machine.`,
  secureThem: 'Put these behind agentguard (the SDK, or the sidecar), then register them: `agentguard agents register NAME --agent-id ID`.',
};

export default class AgentsStatus extends BaseCommand {
  static summary = messages.summary;
  static description = messages.description;
  static examples = [
    { description: 'Coverage of this machine', command: '<%= config.bin %> <%= command.id %>' },
    { description: 'Coverage as a number, with jq', command: '<%= config.bin %> <%= command.id %> --json | jq .coverage' },
  ];

  static flags = { ...dataDirFlag };

  async run(): Promise<AgentsStatusResult> {
    const { flags } = await this.parse(AgentsStatus);
    const dataDir = await resolveDataDir(flags['data-dir']);
    const read = await readRegistry(dataDir, async (registry) => ({ summary: await registry.summary(), unsecured: await registry.list({ status: 'unsecured' }) }));
    const summary = read?.summary ?? EMPTY;
    const result: AgentsStatusResult = { ...summary, text: describeCoverage(summary), unsecuredAgents: read?.unsecured ?? [] };
    if (!this.jsonEnabled()) {
      if (read === null) this.note(messages.noDatabase(dataDir));
      process.stdout.write(render(result));
      if (result.unsecuredAgents.length > 0) this.note(messages.secureThem);
    }
    return result;
  }
}

function render(r: AgentsStatusResult): string {
  const counts = [
    ['secured', r.secured],
    ['unsecured', r.unsecured],
    ['unknown', r.unknown],
    ['total', r.total],
  ] as const;
  let text = `${paint.bold(r.text)}\n${counts.map(([k, n]) => `  ${k.padEnd(10)} ${n}`).join('\n')}\n`;
  if (r.unsecuredAgents.length > 0) {
    text += `\n${paint.bold('Unsecured:')}\n`;
    text += r.unsecuredAgents.map((e) => `  ${paint.yellow(e.id)}  ${e.name}${e.location === null || e.location === e.id ? '' : `  (${e.location})`}`).join('\n');
    text += '\n';
  }
  return text;
}
