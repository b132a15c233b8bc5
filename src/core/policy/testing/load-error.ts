import { AgentGuardError } from '../../errors.js';

/** One reason a test file, or the policy it tests, cannot be used. */
export interface TestLoadProblem {
  /** `test` for the test file itself, `policy` for the policy file it names. */
  source: 'test' | 'policy';
  /** The file as shown to users. */
  file: string;
  line?: number;
  column?: number;
  /** Where in the document, e.g. `cases[2] "blocks DROP TABLE" expect.effect`. */
  where?: string;
  message: string;
  hint?: string;
  /** For a policy problem: the test file that uses the policy. */
  usedBy?: string;
}

/** `file:line:column where: message`, the one-line form of a problem (without its hint). */
export function formatTestLoadProblem(problem: TestLoadProblem): string {
  const at = problem.line ? `${problem.file}:${problem.line}:${problem.column ?? 1}` : problem.file;
  return `${at} ${problem.where ? `${problem.where}: ` : ''}${problem.message}`;
}

/**
 * Test files or policies that cannot be loaded, so no case ran. Lists every problem found in every file,
 * grouped by file, so one run shows them all. Exit code 2.
 */
export class PolicyTestLoadError extends AgentGuardError {
  override name = 'PolicyTestLoadError';
  readonly problems: TestLoadProblem[];

  constructor(problems: TestLoadProblem[]) {
    const onlyPolicies = problems.every((p) => p.source === 'policy');
    const files = [...new Set(problems.map((p) => p.file))];
    const lines: string[] = [
      `cannot run the policy tests: ${files.length === 1 ? `${files[0]} has` : `${files.length} files have`} ${problems.length === 1 ? 'a problem' : `${problems.length} problems`}`,
    ];
    for (const file of files) {
      const own = problems.filter((p) => p.file === file).sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0));
      const usedBy = [...new Set(own.map((p) => p.usedBy).filter((u): u is string => Boolean(u)))];
      lines.push(`  ${file}${usedBy.length > 0 ? ` (the policy tested by ${usedBy.join(', ')})` : ''}:`);
      for (const p of own) {
        lines.push(`    ${formatTestLoadProblem(p)}`);
        if (p.hint) lines.push(...p.hint.split('\n').map((h) => `      ${h}`));
      }
    }
    const actions: string[] = [];
    if (!onlyPolicies) actions.push('Fix the test file at the positions shown; its format is described by schemas/policy-test.schema.json.');
    if (problems.some((p) => p.source === 'policy')) actions.push('Fix the policy at the positions shown; `agentguard policy validate <file>` checks it on its own.');
    super(onlyPolicies ? 'POLICY_INVALID' : 'POLICY_TEST_INVALID', lines.join('\n'), { actions, exitCode: 2 });
    this.problems = problems;
  }
}

export function isPolicyTestLoadError(value: unknown): value is PolicyTestLoadError {
  return value instanceof PolicyTestLoadError;
}
