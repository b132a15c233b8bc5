import { BaseCommand } from '../../cli/base-command.js';
import { paint } from '../../cli/style.js';

/** `--json` output: one entry per built-in guardrail. */
export interface GuardrailsListResult {
  guardrails: Array<{
    name: string;
    description: string;
    /** `span`: reports where in the text (can redact); `text`: judges the whole text. */
    scope: 'span' | 'text';
    /** True when it sends text to a third party; such guardrails run only when a policy names them. */
    remote: boolean;
    types: string[];
    configSchema: Record<string, unknown>;
  }>;
}

export default class GuardrailsList extends BaseCommand {
  static summary = 'List the built-in guardrails, what they report and their options.';
  static description = `Policies use these names in detect conditions and redact steps; "guardrails" in a policy configures them or adds plugins. --json includes each guardrail's config JSON Schema.`;

  static examples = [
    { description: 'What is available', command: '<%= config.bin %> <%= command.id %>' },
    { description: 'Types and config schemas, for tooling', command: '<%= config.bin %> <%= command.id %> --json' },
  ];

  async run(): Promise<GuardrailsListResult> {
    await this.parse(GuardrailsList);
    const { describeBuiltinGuardrails } = await import('../../core/guardrails/describe.js');
    const guardrails = describeBuiltinGuardrails();
    if (!this.jsonEnabled()) {
      const lines: string[] = [];
      for (const g of guardrails) {
        lines.push(`${paint.bold(g.name)}  ${g.description}${g.remote ? paint.yellow(' (sends text to a third party; used only when a policy names it)') : ''}`);
        lines.push(`  ${g.scope === 'span' ? 'finds spans (can redact)' : 'judges whole texts'}; types: ${g.types.join(', ')}`);
        const options = Object.keys((g.configSchema.properties as Record<string, unknown> | undefined) ?? {});
        if (options.length > 0) lines.push(`  options: ${options.join(', ')}`);
        lines.push('');
      }
      process.stdout.write(lines.join('\n'));
    }
    return { guardrails };
  }
}
