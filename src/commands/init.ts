import { relative, resolve } from 'node:path';
import { Flags } from '@oclif/core';
import { AgentGuardError, BaseCommand } from '../cli/base-command.js';
import { paint } from '../cli/style.js';
import { CONFIG_FILE } from '../core/config/project-config.js';
import { initProject, type InitResult } from '../core/init/init-project.js';
import { agentIdProblem, defaultPolicyName, policyNameProblem } from '../core/init/names.js';
import { POLICY_PATH } from '../core/init/plan.js';
import { DEFAULT_TEMPLATE, TEMPLATE_IDS, TEMPLATES, templateInfo, type TemplateId } from '../core/init/templates.js';

export type { InitResult } from '../core/init/init-project.js';

/** `--json` output: what init wrote, and for the coding-agent template the hooks it installed. */
export type InitCommandResult = InitResult & { hooks?: import('../hooks/install/install.js').HooksReport };
export type { InitFile, InitFileAction } from '../core/init/plan.js';

/** The answers init needs, from flags, prompts or defaults. */
export interface InitAnswers {
  template: TemplateId;
  name: string;
  agentId: string;
}

const messages = {
  summary: 'Create a starter policy, its tests and the project config.',
  description: [
    `Writes ${CONFIG_FILE}, ${POLICY_PATH} and its tests (from a template for your kind of agent), creates the .agentguard/ data folder (mode 0700) and adds .agentguard/ to .gitignore. Right afterwards, \`agentguard policy test\` passes.`,
    'On a terminal it asks for the agent type, the policy name and the agent id; flags you pass are not asked again. With --yes or --json, or when stdin or stdout is not a terminal (CI), it never prompts: it uses the flags and the defaults (template support-chatbot, the folder name as policy name, the policy name as agent id), and says so on stderr unless --yes is given.',
    'With --template coding-agent it then offers to install agentguard\'s hooks in this project\'s settings (.claude/settings.json, .cursor/hooks.json, .gemini/settings.json, …) for the coding agents set up on this machine: asked on a terminal, else only with --hooks; `agentguard hooks uninstall --all --scope project` takes them out.',
    'It checks everything before writing anything: if any of the files exists, it stops with exit code 2, lists them, and writes nothing, unless you pass --force (.gitignore is only ever appended to, never overwritten).',
  ].join('\n\n'),
  template: `Kind of agent: ${TEMPLATES.map((t) => `${t.id} (${t.description.replace(/\.$/, '')})`).join('; ')}.`,
  name: 'Policy name, recorded in every decision (default: the project folder name).',
  agentId: 'Agent id written to the config (default: the policy name).',
  dir: 'Project folder (default: the current directory); created when missing.',
  force: 'Overwrite existing files.',
  yes: 'Never prompt; use the flags and the defaults.',
  notAsked: (a: InitAnswers) =>
    `Not prompting (no terminal): using template ${a.template}, policy name ${a.name}, agent id ${a.agentId}. Pass --template, --name and --agent-id to choose, or --yes to hide this note.`,
  cancelled: 'Cancelled; nothing was written.',
  promptTemplate: 'What kind of agent are you protecting?',
  promptName: 'Policy name',
  promptAgentId: 'Agent id',
  done: (r: InitResult) => `agentguard is set up in ${r.dir} (template ${r.template}, policy ${r.name}, agent id ${r.agentId}):`,
  nextSteps: 'Next steps:',
};

export default class Init extends BaseCommand {
  static summary = messages.summary;
  static description = messages.description;
  static examples = [
    { description: 'Answer a few questions (on a terminal)', command: '<%= config.bin %> <%= command.id %>' },
    { description: 'Set up a SQL agent without prompts, e.g. in CI', command: '<%= config.bin %> <%= command.id %> --yes --template data-sql --name analytics' },
    { description: 'Set up another folder and print what was written as JSON', command: '<%= config.bin %> <%= command.id %> --dir services/bot --yes --json' },
    { description: 'Start over from the template, replacing the files', command: '<%= config.bin %> <%= command.id %> --yes --force' },
  ];

  static flags = {
    template: Flags.option({ char: 't', options: TEMPLATE_IDS, description: messages.template })(),
    name: Flags.string({ char: 'n', description: messages.name }),
    'agent-id': Flags.string({ description: messages.agentId }),
    dir: Flags.string({ char: 'd', description: messages.dir }),
    force: Flags.boolean({ char: 'f', description: messages.force }),
    yes: Flags.boolean({ char: 'y', description: messages.yes }),
    hooks: Flags.boolean({ description: 'coding-agent template: install agentguard\'s hooks in this project\'s settings for the coding agents set up on this machine (asked on a terminal; --no-hooks: do not ask).', allowNo: true }),
  };

  async run(): Promise<InitCommandResult> {
    const { flags } = await this.parse(Init);
    const dir = resolve(flags.dir ?? '.');
    const given: Partial<InitAnswers> = { template: flags.template, name: flags.name, agentId: flags['agent-id'] };
    const interactive = !flags.yes && !this.jsonEnabled() && Boolean(process.stdin.isTTY && process.stdout.isTTY);

    let answers: InitAnswers;
    if (interactive) {
      answers = await askInitQuestions(given, dir);
    } else {
      answers = defaultAnswers(given, dir);
      if (!flags.yes) this.note(messages.notAsked(answers));
    }

    const result = await initProject({ dir, ...answers, force: flags.force });
    if (!this.jsonEnabled()) process.stdout.write(renderInit(result, process.cwd()));
    if (answers.template !== 'coding-agent') return result;
    const hooks = await (await import('../cli/init-hooks.js')).offerHooks(dir, flags.hooks, interactive);
    if (hooks.note) this.note(hooks.note);
    if (hooks.report && !this.jsonEnabled()) process.stdout.write((await import('../hooks/install/render.js')).renderHooksReport(hooks.report, 'install'));
    return { ...result, ...(hooks.report ? { hooks: hooks.report } : {}) };
  }
}

/** Fills what the flags left out with the defaults: support-chatbot, the folder name, the policy name. */
export function defaultAnswers(given: Partial<InitAnswers>, dir: string): InitAnswers {
  const template = given.template ?? DEFAULT_TEMPLATE;
  const name = given.name ?? defaultPolicyName(dir, template);
  return { template, name, agentId: given.agentId ?? name };
}

/**
 * Asks for what the flags left out. `context` lets tests drive the prompts with their own streams.
 * Ctrl+C ends with INIT_CANCELLED before anything is written.
 */
export async function askInitQuestions(
  given: Partial<InitAnswers>,
  dir: string,
  context?: { input?: NodeJS.ReadableStream; output?: NodeJS.WritableStream },
): Promise<InitAnswers> {
  const { input, select } = await import('@inquirer/prompts');
  try {
    const template =
      given.template ??
      (await select<TemplateId>(
        {
          message: messages.promptTemplate,
          choices: TEMPLATES.map((t) => ({ value: t.id, name: t.title, description: t.description })),
          default: DEFAULT_TEMPLATE,
        },
        context,
      ));
    const name =
      given.name ?? (await input({ message: messages.promptName, default: defaultPolicyName(dir, template), validate: (v) => policyNameProblem(v.trim()) ?? true }, context)).trim();
    const agentId = given.agentId ?? (await input({ message: messages.promptAgentId, default: name, validate: (v) => agentIdProblem(v.trim()) ?? true }, context)).trim();
    return { template, name, agentId };
  } catch (error) {
    if ((error as Error)?.name === 'ExitPromptError' || (error as Error)?.name === 'AbortPromptError') {
      throw new AgentGuardError('INIT_CANCELLED', messages.cancelled, { cause: error });
    }
    throw error;
  }
}

/** The human view: what was written, then what to run next. */
export function renderInit(result: InitResult, cwd: string): string {
  const width = Math.max(...result.files.map((f) => f.action.length));
  const lines = [messages.done(result), ''];
  for (const f of result.files) lines.push(`  ${paint.green(f.action.padEnd(width))}  ${f.path}`);
  if (result.files.length === 0) lines.push('  (nothing to change)');

  const steps: string[] = [];
  const rel = relative(cwd, result.dir);
  if (rel !== '') steps.push(`cd ${shellQuote(rel)}`);
  steps.push(`Read ${POLICY_PATH} and adapt it to your agent's tools: anything no rule allows is denied.`);
  steps.push(`${paint.bold('agentguard policy test')}  runs the cases in ${POLICY_PATH.replace(/\.yaml$/, '.test.yaml')}`);
  steps.push(`${paint.bold(`agentguard policy simulate --action ${shellQuote(JSON.stringify(templateInfo(result.template).sampleAction))}`)}  shows how one action is decided and why`);
  lines.push('', messages.nextSteps, ...steps.map((s, i) => `  ${i + 1}. ${s}`), '');
  return `${lines.join('\n')}\n`;
}

/** Single-quotes a word for POSIX shells when it needs quoting. */
function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}
