import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseIsoTime } from '../../audit/filters.js';
import { openEngine, type Engine } from '../../engine/open-engine.js';
import { SourceError } from '../load.js';
import { Policy } from '../policy.js';
import { isPolicyError } from '../policy-error.js';
import { suggest } from '../schema.js';
import { RuleCoverage } from './coverage.js';
import { checkExpectation, expectedRules } from './expectation.js';
import { PolicyTestLoadError, type TestLoadProblem } from './load-error.js';
import { readPolicyTestFile, sourceProblem, type LoadedTestFile } from './test-file.js';
import type { PolicyTestCaseResult, PolicyTestFile, PolicyTestRun } from './types.js';

/** Test files ready to run, each with its compiled policy. */
export interface PolicyTestSuite {
  /** `variants`: the policy a case is decided by when it is not `policy` (a case with params, a pack's tests under the including policy's params), by case index. */
  tests: Array<{ test: PolicyTestFile; policy: Policy; variants?: Map<number, Policy> }>;
}

type PolicyEntry = { ok: true; policy: Policy } | { ok: false; problems: TestLoadProblem[]; users: string[] };

/**
 * Reads and validates test files and compiles the policies they name (each policy once).
 * Collects every problem of every file first, then throws one PolicyTestLoadError listing them all.
 *
 * @example
 * const suite = await loadPolicyTests(await findPolicyTestFiles([]));
 * const run = await runPolicyTests(suite, { coverage: true });
 */
export async function loadPolicyTests(paths: readonly string[], options: { cwd?: string } = {}): Promise<PolicyTestSuite> {
  const cwd = options.cwd ?? process.cwd();
  const problems: TestLoadProblem[] = [];
  const policies = new Map<string, PolicyEntry>();
  const tests: PolicyTestSuite['tests'] = [];
  const variantCache = new Map<string, Promise<Policy>>();
  const seenPackTests = new Set<string>();
  for (const path of paths) {
    const result = await readPolicyTestFile(path, cwd);
    if (!result.ok) {
      problems.push(...result.problems);
      continue;
    }
    const { loaded } = result;
    const entry = await loadPolicy(loaded, policies);
    if (!entry) continue;
    if (!entry.ok) {
      entry.users.push(loaded.test.file);
      continue;
    }
    const unknown = unknownRuleProblems(loaded, entry.policy);
    if (unknown.length > 0) {
      problems.push(...unknown);
      continue;
    }
    const variants = await loadVariants(loaded, variantCache, problems);
    tests.push({ test: loaded.test, policy: entry.policy, ...(variants ? { variants } : {}) });
    // The tests of the packs the policy includes run too, with the parameters this policy gives them.
    for (const included of await includedPackTests(entry.policy, loaded.test.policyFile, cwd, seenPackTests, problems)) {
      const packVariants = await loadVariants(included, variantCache, problems);
      if (packVariants) tests.push({ test: included.test, policy: entry.policy, variants: packVariants });
    }
  }
  for (const entry of policies.values()) {
    if (!entry.ok) problems.push(...entry.problems.map((p) => ({ ...p, usedBy: entry.users.join(', ') })));
  }
  if (problems.length > 0) throw new PolicyTestLoadError(problems);
  return { tests };

  /** The cached policy entry; undefined when the test file's `policy` path itself is wrong (reported on the test file). */
  async function loadPolicy(loaded: LoadedTestFile, cache: Map<string, PolicyEntry>): Promise<PolicyEntry | undefined> {
    const { policyPath, policyFile } = loaded.test;
    const cached = cache.get(policyPath);
    if (cached) return cached;
    let entry: PolicyEntry;
    try {
      entry = { ok: true, policy: await Policy.fromFile(policyPath) };
    } catch (error) {
      if (error instanceof SourceError && !error.syntax) {
        problems.push(loaded.problemAt(['policy'], `cannot load the policy ${policyFile}: ${sourceProblem(error, 'policy', policyFile).message}`, {
          hint: 'The policy path is relative to the test file.',
        }));
        return undefined;
      }
      if (error instanceof SourceError) entry = { ok: false, problems: [sourceProblem(error, 'policy', policyFile)], users: [] };
      else if (isPolicyError(error)) {
        entry = {
          ok: false,
          users: [],
          problems: error.problems
            .filter((p) => p.severity === 'error')
            .map((p) => ({ source: 'policy', file: policyFile, line: p.line, column: p.column, where: p.path || undefined, message: p.message, hint: p.hint })),
        };
      } else throw error;
    }
    cache.set(policyPath, entry);
    return entry;
  }
}

/**
 * The policy each case is decided by when it is not the file's own: the policy compiled with the case's params over
 * the ones in use (for a pack's tests run from an including policy, that policy's params). Undefined when no case needs one.
 */
async function loadVariants(loaded: LoadedTestFile, cache: Map<string, Promise<Policy>>, problems: TestLoadProblem[]): Promise<Map<number, Policy> | undefined> {
  const { test } = loaded;
  const base = test.includedBy?.params;
  if (!base && !test.cases.some((c) => c.params)) return undefined;
  const variants = new Map<number, Policy>();
  let failed = false;
  for (const c of test.cases) {
    if (!base && !c.params) continue;
    const params = { ...(base ?? {}), ...(c.params ?? {}) };
    const key = `${test.policyPath}\u0000${JSON.stringify(params)}`;
    let pending = cache.get(key);
    if (!pending) cache.set(key, (pending = Policy.fromFile(test.policyPath, { params })));
    try {
      variants.set(c.index, await pending);
    } catch (error) {
      if (!isPolicyError(error)) throw error;
      failed = true;
      const first = error.problems.find((p) => p.severity === 'error');
      problems.push(loaded.problemAt(c.params ? ['cases', c.index, 'params'] : ['cases', c.index], `the policy ${test.policyFile} cannot be compiled with these params: ${first?.message ?? error.message}`, { hint: first?.hint }));
    }
  }
  return failed ? undefined : variants;
}

/**
 * The test files of the packs and files a policy includes (a policy.test.yaml beside the included file, testing it),
 * each run with the parameters the policy gives that include. Each pack's tests run once per distinct parameters.
 */
async function includedPackTests(policy: Policy, policyFile: string, cwd: string, seen: Set<string>, problems: TestLoadProblem[]): Promise<LoadedTestFile[]> {
  const out: LoadedTestFile[] = [];
  for (const include of policy.compiled.composition?.includes ?? []) {
    const testPath = join(dirname(include.path), 'policy.test.yaml');
    if (!existsSync(testPath)) continue;
    const key = `${testPath}\u0000${JSON.stringify(include.params)}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const result = await readPolicyTestFile(testPath, cwd);
    if (!result.ok) {
      problems.push(...result.problems);
      continue;
    }
    if (result.loaded.test.policyPath !== include.path) continue;
    const label = include.pack ? `agentguard:${include.pack.name}@${include.pack.version}` : include.file;
    result.loaded.test.includedBy = { policyFile, spec: include.spec, params: include.params };
    result.loaded.test.policyFile = `${label}, with the params of ${policyFile}`;
    out.push(result.loaded);
  }
  return out;
}

/** Expectations naming a rule the policy does not have would fail forever; report them as test-file errors. */
function unknownRuleProblems(loaded: LoadedTestFile, policy: Policy): TestLoadProblem[] {
  const ids = policy.document.rules.map((r) => r.id);
  const problems: TestLoadProblem[] = [];
  for (const c of loaded.test.cases) {
    expectedRules(c.expect).forEach((id, j) => {
      if (ids.includes(id)) return;
      const at = Array.isArray(c.expect.rule) ? ['cases', c.index, 'expect', 'rule', j] : ['cases', c.index, 'expect', 'rule'];
      problems.push(loaded.problemAt(at, `rule "${id}" is not in the policy ${loaded.test.policyFile}`, {
        hint: ids.length > 0 ? `Rules in that policy: ${ids.join(', ')}.${suggest(id, ids)}` : 'That policy has no rules.',
      }));
    });
  }
  return problems;
}

/** How `runPolicyTests` decides: as `policy simulate` does, without recording anything. */
export interface PolicyTestRunOptions {
  /** List, per policy, the rules no case reached. */
  coverage?: boolean;
  /** The data folder whose redaction key `hash` and `encrypt` redactions use when it exists (read, never created). */
  dataDir?: string;
  /** Put on cases' actions that name no agent (the project's agentId), as the SDK and the sidecar do. */
  agentId?: string;
  /** Milliseconds of guardrail work per decision (the project's guardrails.budgetMs). */
  guardrailBudgetMs?: number;
  /** The time every case is decided at (`--at`), for time conditions; default the clock. */
  now?: () => Date;
}

/**
 * Runs every case through the engine every front door decides with (openEngine with `record: false`: asynchronous
 * guardrails, redaction keys and agent ids as in production, nothing written), then compares the decision with the
 * expectation. Cases run one after another, in file order.
 */
export async function runPolicyTests(suite: PolicyTestSuite, options: PolicyTestRunOptions = {}): Promise<PolicyTestRun> {
  const coverage = options.coverage ? new RuleCoverage() : undefined;
  const files: PolicyTestRun['files'] = [];
  const engines = new Map<Policy, Engine>();
  let caseTime: Date | undefined;
  try {
    for (const { test, policy } of suite.tests) {
      const engineFor = async (policy: Policy): Promise<Engine> => {
        let engine = engines.get(policy);
        if (!engine) {
          engine = await openEngine({
            policy,
            record: false,
            ...(options.dataDir !== undefined ? { dataDir: options.dataDir } : {}),
            ...(options.agentId !== undefined ? { agentId: options.agentId } : {}),
            guardrails: { budgetMs: options.guardrailBudgetMs },
            // A case's own `at`, else --at, else the clock.
            now: () => caseTime ?? options.now?.() ?? new Date(),
          });
          engines.set(policy, engine);
        }
        return engine;
      };
      const variants = suite.tests.find((t) => t.test === test)?.variants;
      if (!test.includedBy) coverage?.track(policy, test.policyFile);
      const results: PolicyTestCaseResult[] = [];
      for (const c of test.cases) {
        const casePolicy = variants?.get(c.index) ?? policy;
        const engine = await engineFor(casePolicy);
        caseTime = c.at !== undefined ? new Date(parseIsoTime(c.at)!) : undefined;
        const actual = await engine.decide(c.action);
        if (casePolicy === policy) coverage?.record(policy, test.policyFile, engine.subject(c.action));
        // A pack's case decided with the including policy's own params reaches rules of that policy too.
        else if (test.includedBy && !c.params) coverage?.record(policy, test.includedBy.policyFile, engine.subject(c.action));
        const failures = checkExpectation(c.expect, actual);
        results.push({
          file: test.file,
          path: test.path,
          policy: test.policyFile,
          ...(test.includedBy ? { pack: test.policyFile } : {}),
          name: c.name,
          line: c.line,
          column: c.column,
          passed: failures.length === 0,
          expected: c.expect,
          actual,
          failures,
        });
      }
      files.push({ file: test.file, path: test.path, policy: test.policyFile, results });
    }
  } finally {
    await Promise.all([...engines.values()].map((e) => e.close()));
  }
  const results = files.flatMap((f) => f.results);
  const passed = results.filter((r) => r.passed).length;
  return { files, results, passed, failed: results.length - passed, ...(coverage ? { coverage: coverage.report() } : {}) };
}
