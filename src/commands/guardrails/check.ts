import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import { readStdinText, readTextFile } from '../../cli/read-input.js';
import { paint } from '../../cli/style.js';
import { AgentGuardError } from '../../core/errors.js';
import type { Finding } from '../../core/guardrails/types.js';

/** `--json` output. */
export interface GuardrailsCheckResult {
  guardrails: string[];
  findings: Finding[];
  /** The text with every span finding replaced by `<TYPE>`. */
  redacted: string;
}

const LOCAL_DEFAULTS = ['pii', 'secrets', 'injection', 'moderation'];

export default class GuardrailsCheck extends BaseCommand {
  static summary = 'Run guardrails on a text and print the findings and the redacted text.';
  static description = `The text is the argument, @file for a file's content, or - for stdin. Runs the local guardrails (pii, secrets, injection, moderation) unless --guardrail names others; openai-moderation sends the text to OpenAI and runs only when named.

Exit codes: 0 nothing found; 1 something found; 2 bad input.`;

  static examples = [
    { description: 'Check a sentence', command: `<%= config.bin %> <%= command.id %> "Mail ana@example.com, SSN 536-22-8726"` },
    { description: 'Scan a file for secrets only', command: '<%= config.bin %> <%= command.id %> @.env --guardrail secrets' },
    { description: 'From a pipe, as JSON', command: 'cat prompt.txt | <%= config.bin %> <%= command.id %> - --guardrail injection --json' },
  ];

  static args = {
    text: Args.string({ description: 'The text, @file, or - for stdin.', required: true }),
  };

  static flags = {
    guardrail: Flags.string({ char: 'g', description: 'A guardrail to run (repeat for several; default: every local one).', multiple: true, helpValue: '<name>' }),
  };

  async run(): Promise<GuardrailsCheckResult> {
    const { args, flags } = await this.parse(GuardrailsCheck);
    const text = await readTextArgument(args.text);
    const { BUILTIN_GUARDRAILS } = await import('../../core/guardrails/registry.js');
    const { inspectText } = await import('../../core/guardrails/inspect.js');
    const { suggest } = await import('../../core/policy/schema.js');
    const names = flags.guardrail ?? LOCAL_DEFAULTS;
    const guardrails = names.map((name) => {
      const factory = BUILTIN_GUARDRAILS.get(name);
      if (!factory) {
        throw new AgentGuardError('UNKNOWN_GUARDRAIL', `unknown guardrail "${name}".${suggest(name, [...BUILTIN_GUARDRAILS.keys()])}`, {
          actions: [`Choose from: ${[...BUILTIN_GUARDRAILS.keys()].join(', ')} (\`agentguard guardrails list\`).`],
        });
      }
      return factory.create({});
    });
    const { findings, redacted } = await inspectText(text, guardrails);
    if (findings.length > 0) process.exitCode = 1;
    if (!this.jsonEnabled()) this.render(text, findings, redacted, names);
    return { guardrails: names, findings, redacted };
  }

  private render(text: string, findings: Finding[], redacted: string, names: string[]): void {
    const out: string[] = [];
    if (findings.length === 0) {
      out.push(`${paint.green('Nothing found')} by ${names.join(', ')}.`);
    } else {
      out.push(`${paint.red(`${findings.length} finding(s)`)} by ${names.join(', ')}:`);
      for (const f of findings) {
        const whole = f.start === 0 && f.end === text.length;
        const where = whole ? 'whole text' : `${lineCol(text, f.start)}–${lineCol(text, f.end)}`;
        out.push(`  ${f.guardrail.padEnd(10)} ${f.type.padEnd(22)} score ${f.score.toFixed(2)}  ${where}`);
      }
      out.push('', paint.bold('Redacted:'), redacted);
    }
    process.stdout.write(`${out.join('\n')}\n`);
  }
}

function lineCol(text: string, offset: number): string {
  let line = 1;
  let start = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++;
    start = i + 1;
  }
  return `${line}:${offset - start + 1}`;
}

/** The text argument: the text itself, `@file` for a file's content, or `-` for standard input. */
function readTextArgument(arg: string): Promise<string> {
  if (arg === '-') return readStdinText();
  if (!arg.startsWith('@')) return Promise.resolve(arg);
  return readTextFile(arg.slice(1), { actions: ['Check the path; pass the text itself without a leading @, or - to read stdin.'] });
}
