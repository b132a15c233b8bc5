import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import { Args, Flags } from '@oclif/core';
import { AgentGuardError, BaseCommand } from '../../cli/base-command.js';
import { paint } from '../../cli/style.js';
import { atFlag, clockAt } from '../../cli/at-flag.js';
import { loadProjectConfig } from '../../core/config/project-config.js';
import { formatAnnotation, GithubAnnotationsReporter } from '../../core/policy/reporters/github.js';
import { createReporter, REPORTER_NAMES } from '../../core/policy/reporters/index.js';
import { toPolicyTestJson, type PolicyTestJson } from '../../core/policy/reporters/json.js';
import { StringWriter, type ReportWriter } from '../../core/policy/reporters/reporter.js';
import { findPolicyTestFiles } from '../../core/policy/testing/discover.js';
import { isPolicyTestLoadError } from '../../core/policy/testing/load-error.js';
import { loadPolicyTests, runPolicyTests } from '../../core/policy/testing/run.js';

/** What `agentguard policy test --json` prints. */
export type PolicyTestResult = PolicyTestJson;
export type { PolicyTestJsonResult as PolicyTestCaseJson } from '../../core/policy/reporters/json.js';

const messages = {
  summary: 'Run policy test files: check that each action gets the decision its case expects.',
  description: [
    'A test file (*.test.yaml, *.test.yml or *.test.json) names the policy it tests, relative to itself, and lists cases. Each case gives an action and what the decision must be: `expect` takes effect, rule (a rule id, or a list of ids, that must all be among the decision\'s reasons) and action (fields the decision\'s action must contain; lists are compared element by element). Decisions come from the same engine as the SDK and the sidecar (asynchronous guardrails included; nothing is recorded), with the project\'s agentId on actions that name none.',
    'policy: ../support-bot.yaml\ncases:\n- { name: blocks DROP TABLE, action: { kind: tool, name: db.query, input: { sql: "DROP TABLE users" } }, expect: { effect: deny, rule: no-destructive-sql } }',
    'With no path, searches policies/ and the project\'s policy folder (agentguard/ by default), skipping node_modules and hidden folders.',
    'Exit code 0 when every case passes, 1 when any fails, 2 when a test file or policy cannot be loaded. When GITHUB_ACTIONS=true, failures are also printed as workflow annotations.',
  ].join('\n\n'),
  paths: 'Test files, or folders searched recursively for *.test.yaml|yml|json.',
  reporter: 'Report format.',
  output: 'Write the report to this file instead of stdout (folders are created).',
  coverage: 'List, per policy, the rules that no case reached.',
  wrote: (format: string, file: string, counts: string) => `Wrote the ${format} report to ${file} (${counts}).`,
  unwritable: (file: string, why: string) => `cannot write the report to ${file}: ${why}`,
  unwritableAction: 'Check that the folder is writable, or choose another --output path.',
};

export default class PolicyTest extends BaseCommand {
  static summary = messages.summary;
  static description = messages.description;
  static strict = false;
  static examples = [
    { description: 'Run every test in policies/ and agentguard/', command: '<%= config.bin %> <%= command.id %>' },
    { description: 'Run the tests of one policy and list rules no case reaches', command: '<%= config.bin %> <%= command.id %> agentguard/support-bot.test.yaml --coverage' },
    { description: 'Write a JUnit report for CI', command: '<%= config.bin %> <%= command.id %> --reporter junit --output reports/policy-tests.xml' },
    { description: 'Machine-readable results', command: '<%= config.bin %> <%= command.id %> --json' },
  ];

  static args = {
    paths: Args.string({ description: messages.paths, required: false }),
  };

  static flags = {
    reporter: Flags.option({ char: 'r', options: REPORTER_NAMES, default: 'pretty' as const, description: messages.reporter })(),
    output: Flags.string({ char: 'o', description: messages.output }),
    coverage: Flags.boolean({ description: messages.coverage }),
    at: atFlag,
  };

  async run(): Promise<PolicyTestResult> {
    const { argv, flags } = await this.parse(PolicyTest);
    const json = this.jsonEnabled();
    // GitHub reads workflow commands from stdout, which carries pure JSON with --json; annotations are skipped there.
    const github = process.env.GITHUB_ACTIONS === 'true' && !json;
    const cwd = process.cwd();
    const pathFor = githubPath(cwd);

    const files = await findPolicyTestFiles(argv as string[], cwd);
    let suite;
    try {
      suite = await loadPolicyTests(files, { cwd });
    } catch (error) {
      if (github && isPolicyTestLoadError(error)) {
        for (const p of error.problems) {
          const message = `${p.where ? `${p.where}: ` : ''}${p.message}${p.hint ? `\n${p.hint}` : ''}`;
          process.stdout.write(formatAnnotation({ level: 'error', file: pathFor(resolve(cwd, p.file), p.file), line: p.line, column: p.column, title: 'Policy test file cannot be loaded', message }));
        }
      }
      throw error;
    }
    // Decided as `policy simulate` decides them: the project's agent id, guardrail budget and redaction key (read only).
    const project = await loadProjectConfig(cwd);
    const run = await runPolicyTests(suite, {
      coverage: flags.coverage,
      dataDir: project.paths.dataDir,
      agentId: project.config.agentId,
      guardrailBudgetMs: project.config.guardrails?.budgetMs,
      ...(flags.at !== undefined ? { now: clockAt(flags.at) } : {}),
    });

    const stdout: ReportWriter = { write: (text: string) => process.stdout.write(text) };
    if (flags.output) {
      const buffer = new StringWriter();
      createReporter(flags.reporter).report(run, buffer);
      await writeReport(flags.output, buffer.toString());
      this.note(messages.wrote(flags.reporter, flags.output, `${run.passed} passed, ${run.failed} failed`));
    } else if (!json) {
      createReporter(flags.reporter, { style: { pass: paint.green, fail: paint.red, bold: paint.bold, dim: paint.dim } }).report(run, stdout);
    }
    if (github) new GithubAnnotationsReporter(pathFor).report(run, stdout);

    if (run.failed > 0) process.exitCode = 1;
    return toPolicyTestJson(run);
  }
}

async function writeReport(file: string, text: string): Promise<void> {
  try {
    await mkdir(dirname(resolve(file)), { recursive: true });
    await writeFile(file, text, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'EACCES' || code === 'EPERM' ? 'permission denied' : code === 'EISDIR' ? 'it is a folder' : code === 'ENOTDIR' ? 'a parent is not a folder' : (code ?? String(error));
    throw new AgentGuardError('OUTPUT_UNWRITABLE', messages.unwritable(file, why), { actions: [messages.unwritableAction], cause: error });
  }
}

/** Annotation paths must be relative to the repository root, which GitHub gives as GITHUB_WORKSPACE. */
function githubPath(cwd: string): (absolutePath: string, shown: string) => string {
  const workspace = process.env.GITHUB_WORKSPACE;
  return (absolutePath, shown) => {
    if (!workspace) return shown;
    const rel = relative(resolve(cwd, workspace), absolutePath);
    return rel === '' || rel.startsWith('..') || isAbsolute(rel) ? shown : rel;
  };
}
