import { Flags } from '@oclif/core';
import { dataDirFlag, resolveDataDir } from '../../cli/data-dir.js';
import { BaseCommand } from '../../cli/base-command.js';
import { paint } from '../../cli/style.js';
import { formatAttributes, parseAttributeFlags } from '../../core/tokens/attributes.js';
import { agentScope, approverScope, formatScope, type TokenScope } from '../../core/tokens/scope.js';
import { createToken } from '../../core/tokens/tokens.js';

/** `--json` output: the new token (the only time it is ever shown), its public id and its scope (`admin` or `agent:<id>`). */
export interface TokenCreateResult {
  id: string;
  token: string;
  scope: string;
  /** Only when --attr was given: the fields the token vouches for, by path (`agent.role`, `context.env`). */
  attributes?: Record<string, string>;
}

const messages = {
  summary: 'Create an API token for the sidecar, bound to one agent, to one approver, or to the admin scope.',
  description: `Prints a new bearer token once; only its SHA-256 is stored, so it cannot be shown again. Keep it in a secret manager or an environment variable, and pass it to the agent (\`Authorization: Bearer <token>\`, or \`new AgentGuard({ sidecar: { url, token } })\`).

An agent token (--agent) can only ask for decisions of that agent and read its audit records. With --attr it also vouches for fields the policy may test (\`--attr role=support\` binds \`agent.role\`, \`--attr context.env=prod\` binds \`context.env\`): the sidecar fills them into the agent's actions and refuses a request that sets another value, so the agent cannot choose them. An approver token (--approver) can only list, read, approve and deny approvals, always in that name, and only those whose rule lists the name in \`approvers\` (or \`escalateTo\`, once escalated) or lists nobody. An admin token (--admin) can also reload the policy, read every agent's audit and verify the log: give it to people and tools, not to agents.

On a terminal the token goes to stdout and everything else to stderr, so \`TOKEN=$(agentguard token create --agent support-bot)\` captures just the token. Tokens start with "agk_", so secret scanners can find one that leaks; revoke a leaked token with \`agentguard token revoke\`.`,
  created: (id: string, scope: string) => `Created token ${id} (scope ${scope}).`,
  once: 'This is the only time the token is shown: store it now. Agents send it as `Authorization: Bearer <token>`.',
};

export default class TokenCreate extends BaseCommand {
  static summary = messages.summary;
  static description = messages.description;
  static examples = [
    { description: 'A token for one agent', command: '<%= config.bin %> <%= command.id %> --agent support-bot --name "support-bot prod"' },
    { description: 'An agent token that vouches for the role and environment (agent.role, context.env) its agent acts in', command: '<%= config.bin %> <%= command.id %> --agent support-bot --attr role=support --attr context.env=prod' },
    { description: 'A token for one person who decides approvals', command: '<%= config.bin %> <%= command.id %> --approver alice@example.com' },
    { description: 'An admin token, as JSON for a script', command: '<%= config.bin %> <%= command.id %> --admin --name ci --json' },
    { description: 'Capture only the token in a shell variable', command: 'export AGENTGUARD_TOKEN=$(<%= config.bin %> <%= command.id %> --agent support-bot)' },
  ];

  static flags = {
    agent: Flags.string({ description: 'Bind the token to this agent id: it can only decide for that agent.', helpValue: '<id>', exactlyOne: ['agent', 'admin', 'approver'] }),
    approver: Flags.string({ description: 'Bind the token to this approver: it can only read and decide approvals, as this name.', helpValue: '<name>', exactlyOne: ['agent', 'admin', 'approver'] }),
    admin: Flags.boolean({ description: 'Give the token the admin scope (every agent, policy reload, audit verify).', exactlyOne: ['agent', 'admin', 'approver'] }),
    name: Flags.string({ description: 'A label for `token list`, such as where the token is used.', helpValue: '<label>' }),
    attr: Flags.string({
      description:
        'With --agent: an attribute the token vouches for, as name=value (binds agent.<name>) or context.<name>=value. The sidecar fills it into every action of this token and refuses (403) a request that sets another value. Repeatable.',
      helpValue: '<name=value>',
      multiple: true,
      dependsOn: ['agent'],
    }),
    ...dataDirFlag,
  };

  async run(): Promise<TokenCreateResult> {
    const { flags } = await this.parse(TokenCreate);
    const scope: TokenScope =
      flags.agent !== undefined ? agentScope(flags.agent) : flags.approver !== undefined ? approverScope(flags.approver) : { kind: 'admin' };
    const attributes = parseAttributeFlags(flags.attr ?? []);
    const dataDir = await resolveDataDir(flags['data-dir']);
    // The store is a native module: load it only in commands that use it.
    const { openStore } = await import('../../core/store/open-store.js');
    const store = await openStore({ dataDir });
    let result: TokenCreateResult;
    try {
      const { token, info } = await createToken(store.tokens, { scope, name: flags.name, attributes });
      result = { id: info.id, token, scope: formatScope(info.scope) };
      if (Object.keys(info.attributes).length > 0) result.attributes = { ...info.attributes };
    } finally {
      await store.close();
    }
    if (!this.jsonEnabled()) {
      process.stdout.write(`${result.token}\n`);
      const bound = result.attributes ? ` It vouches for ${formatAttributes(result.attributes)}.` : '';
      this.note(`${paint.green(messages.created(result.id, result.scope))}${bound} ${messages.once}`);
    }
    return result;
  }
}
