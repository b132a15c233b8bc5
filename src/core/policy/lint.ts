import type { CompiledPolicy } from './compile.js';
import { positioned } from './compile.js';
import type { ParsedSource } from './load.js';
import type { LintProblem } from './lint/lint-problem.js';
import { checkNeverMatch } from './lint/never-match.js';
import { checkRegexes, DEFAULT_REDOS_TIMEOUT_MS } from './lint/redos.js';
import { checkShadowing } from './lint/shadowing.js';
import { checkTransformOrder } from './lint/transform-order.js';
import { checkTransforms } from './lint/transforms.js';
import type { PolicyProblem } from './problem.js';
import type { PolicyDocument } from './types.js';

export { DEFAULT_REDOS_TIMEOUT_MS };
export type { LintProblem };

export interface LintOptions {
  /** Time recheck may spend on each regex; past it the regex is reported as `redos-unknown` (a warning). */
  redosTimeoutMs?: number;
  /** Skip the ReDoS check (which starts recheck's backend), e.g. for editors linting on every keystroke. */
  skipRedos?: boolean;
}

/**
 * The checks that need no regex analysis: rules that can never match, shadowed and duplicate rules,
 * transform steps that cannot apply, and transform rules whose result depends on their order. Synchronous and pure; problems carry document paths, not positions.
 */
export function lintDocument(doc: PolicyDocument): LintProblem[] {
  const { problems, neverMatching } = checkNeverMatch(doc);
  return [...problems, ...checkShadowing(doc, neverMatching), ...checkTransforms(doc), ...checkTransformOrder(doc)];
}

/**
 * Semantic checks of a policy that compiled (schema and compile errors come from compilePolicy): every lint check,
 * including regexes open to catastrophic backtracking, with `file:line:column` positions from the source map.
 * Problems are sorted by position.
 *
 * @example
 * const source = await readSourceFile('agentguard/policy.yaml');
 * const problems = await lintPolicy(source, compilePolicy(source));
 * for (const p of problems) console.log(`${p.line}:${p.column} ${p.severity} ${p.path}: ${p.message}`);
 */
export async function lintPolicy(source: ParsedSource, policy: CompiledPolicy, options: LintOptions = {}): Promise<PolicyProblem[]> {
  const doc = policy.document;
  const found = lintDocument(doc);
  if (!options.skipRedos) found.push(...(await checkRegexes(doc, { timeoutMs: options.redosTimeoutMs })));
  return sortProblems(positioned(source, found));
}

/**
 * Orders problems by file (the policy's own first, then each included file), then line and column (problems without
 * a position last), errors before warnings at one place.
 */
export function sortProblems(problems: PolicyProblem[]): PolicyProblem[] {
  const rank = (p: PolicyProblem) => [p.line ?? Number.MAX_SAFE_INTEGER, p.column ?? 0, p.severity === 'error' ? 0 : 1];
  return [...problems].sort((a, b) => {
    const [ra, rb] = [rank(a), rank(b)];
    return (a.file ?? '').localeCompare(b.file ?? '') || ra[0] - rb[0] || ra[1] - rb[1] || ra[2] - rb[2];
  });
}
