import { BaseCommand } from '../../cli/base-command.js';
import { policySchema } from '../../core/policy/schema.js';

export default class PolicySchema extends BaseCommand {
  static summary = 'Print the JSON Schema of policy files.';
  static description = 'Point your editor at it (for example with a `# yaml-language-server: $schema=…` comment) to get validation and autocomplete while writing policies.';
  static examples = [
    { description: 'Save the schema next to your policies', command: '<%= config.bin %> <%= command.id %> > agentguard/policy.schema.json' },
  ];
  async run(): Promise<Record<string, unknown>> {
    await this.parse(PolicySchema);
    const schema = policySchema();
    // The schema is JSON either way; --json only changes who prints it.
    if (!this.jsonEnabled()) process.stdout.write(`${JSON.stringify(schema, null, 2)}\n`);
    return schema;
  }
}
