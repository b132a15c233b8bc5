import { Args, Flags } from '@oclif/core';
import { AgentGuardError, BaseCommand } from '../../cli/base-command.js';
import { dataDirFlag, resolveDataDir } from '../../cli/data-dir.js';
import { paint } from '../../cli/style.js';
import { ExitCode } from '../../core/errors.js';
import { DEFAULT_REDOS_TIMEOUT_MS } from '../../core/policy/lint.js';
import type { AttributeBindings } from '../../core/policy/lint/unbound-attributes.js';
import { isUnreadable, validatePolicyFiles, type FileReport, type ReportedProblem, type ValidationResult } from '../../core/policy/validate.js';

/** `--json` output: `{ valid, files: [{ file, valid, errors, warnings }] }`. */
export type PolicyValidateResult = ValidationResult;

const text = {
  summary: 'Check policy files for errors and likely mistakes.',
  description: `Checks each file against the policy schema, compiles it, then looks for mistakes that still compile: regexes open to catastrophic backtracking (ReDoS), rules that can never match, rules that can never decide because a deny rule always wins over them, duplicate rules, and transform steps that cannot apply.

Every problem is reported as file:line:column with the field it concerns and a hint. Errors make a file invalid; warnings do not, unless --strict is given.

With --strict, a condition on an agent.* or context.* field (other than agent.id) is a warning unless every active agent token in the data folder binds that field (\`agentguard token create --agent <id> --attr role=support --attr context.env=prod\`): through a token that does not, the agent sends the field itself and can match or avoid the condition at will.

Exit codes: 0 all files valid, 1 some file has errors, 2 a file cannot be read or the command was used wrongly.`,
  noFiles: 'no policy file given',
  noFilesAction: 'Pass one or more policy files, for example: agentguard policy validate agentguard/policy.yaml',
};

export default class PolicyValidate extends BaseCommand {
  static summary = text.summary;
  static description = text.description;
  static strict = false;

  static examples = [
    { description: 'Validate the project policy', command: '<%= config.bin %> <%= command.id %> agentguard/policy.yaml' },
    { description: 'Validate every policy and fail on warnings too (for CI)', command: '<%= config.bin %> <%= command.id %> policies/*/policy.yaml --strict' },
    { description: 'Machine-readable report', command: '<%= config.bin %> <%= command.id %> agentguard/policy.yaml --json' },
  ];

  static args = {
    file: Args.string({ description: 'Policy files (JSON or YAML); give as many as you like.' }),
  };

  static flags = {
    strict: Flags.boolean({
      description:
        'Treat warnings as errors: exit 1 when any file has a warning. Also warns on conditions over agent.* and context.* fields that not every agent token of the data folder binds (token create --attr), since agents choose those themselves.',
    }),
    ...dataDirFlag,
    'redos-timeout': Flags.integer({
      description: 'Milliseconds the ReDoS check may spend on each regex before reporting it as unknown (a warning).',
      min: 1,
      default: DEFAULT_REDOS_TIMEOUT_MS,
    }),
  };

  async run(): Promise<PolicyValidateResult> {
    const { argv, flags } = await this.parse(PolicyValidate);
    const files = argv as string[];
    if (files.length === 0) throw new AgentGuardError('USAGE', text.noFiles, { actions: [text.noFilesAction] });

    // --strict also asks which agent.* / context.* fields an agent can choose, which depends on the tokens issued.
    const attributeBindings = flags.strict ? await readAttributeBindings(await resolveDataDir(flags['data-dir'])) : undefined;
    const result = await validatePolicyFiles(files, { strict: flags.strict, redosTimeoutMs: flags['redos-timeout'], ...(attributeBindings ? { attributeBindings } : {}) });
    if (!this.jsonEnabled()) process.stdout.write(renderReport(result, flags.strict));
    process.exitCode = result.files.some(isUnreadable) ? ExitCode.usage : result.valid ? ExitCode.ok : ExitCode.failed;
    return result;
  }
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function renderProblem(file: string, severity: 'error' | 'warning', p: ReportedProblem): string {
  const shown = p.file ?? file;
  const where = p.line !== null ? `${shown}:${p.line}:${p.column}` : shown;
  const label = severity === 'error' ? paint.red('error') : paint.yellow('warning');
  let out = `${paint.bold(where)} ${label} ${p.path ? `${p.path}: ` : ''}${p.message}\n`;
  if (p.hint) out += `    ${paint.dim(`hint: ${p.hint}`)}\n`;
  return out;
}

function renderFile(report: FileReport): string {
  const problems = [
    ...report.errors.map((p) => ({ p, severity: 'error' as const })),
    ...report.warnings.map((p) => ({ p, severity: 'warning' as const })),
  ].sort((a, b) => (a.p.file ?? '').localeCompare(b.p.file ?? '') || (a.p.line ?? Infinity) - (b.p.line ?? Infinity) || (a.p.column ?? 0) - (b.p.column ?? 0));
  let out = problems.map(({ p, severity }) => renderProblem(report.file, severity, p)).join('');
  if (report.valid) out += `${paint.green('✓')} ${report.file}${report.warnings.length ? ` (${plural(report.warnings.length, 'warning')})` : ''}\n`;
  return out;
}

/** The human report: one block per file (a blank line around blocks with problems), then a summary line. */
function renderReport(result: ValidationResult, strict = false): string {
  let body = '';
  result.files.forEach((file, i) => {
    const spaced = file.errors.length + file.warnings.length > 0 || (i > 0 && result.files[i - 1].errors.length + result.files[i - 1].warnings.length > 0);
    body += `${i > 0 && spaced ? '\n' : ''}${renderFile(file)}`;
  });
  const readable = result.files.filter((f) => !isUnreadable(f));
  const valid = result.files.filter((f) => f.valid).length;
  const unreadable = result.files.length - readable.length;
  const withErrors = readable.filter((f) => f.errors.length > 0).length;
  const onWarnings = readable.filter((f) => !f.valid && f.errors.length === 0).length;
  const errors = readable.reduce((n, f) => n + f.errors.length, 0);
  const warnings = readable.reduce((n, f) => n + f.warnings.length, 0);
  const parts = [`${valid} valid`];
  if (withErrors) parts.push(`${withErrors} with errors`);
  if (onWarnings) parts.push(`${onWarnings} failing on warnings${strict ? ' (--strict)' : ''}`);
  if (unreadable) parts.push(`${unreadable} unreadable`);
  const counts = errors || warnings ? ` (${plural(errors, 'error')}, ${plural(warnings, 'warning')})` : '';
  return `${body}\n${plural(result.files.length, 'file')}: ${parts.join(', ')}${counts}\n`;
}

/** The active agent tokens of the data folder and what each binds; none when the folder has no database yet. */
async function readAttributeBindings(dataDir: string): Promise<AttributeBindings> {
  const { openStore } = await import('../../core/store/open-store.js');
  const { isAgentGuardError } = await import('../../core/errors.js');
  let store;
  try {
    store = await openStore({ dataDir, create: false });
  } catch (error) {
    if (isAgentGuardError(error) && error.code === 'STORE_NOT_FOUND') return { source: dataDir, agentTokens: [] };
    throw error;
  }
  try {
    const tokens = await store.tokens.list();
    const agentTokens = tokens.flatMap((t) => (t.scope.kind === 'agent' && t.revokedAt === null ? [{ id: t.id, agentId: t.scope.agentId, attributes: t.attributes }] : []));
    return { source: dataDir, agentTokens };
  } finally {
    await store.close();
  }
}
