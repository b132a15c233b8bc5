import type { Decision } from '../../action.js';
import type { Expectation, PolicyCoverage, PolicyTestRun } from '../testing/types.js';
import { failureMessage } from './describe.js';
import type { Reporter, ReportWriter } from './reporter.js';

/** One case in the JSON report. `message` says why the case failed and is absent when it passed. */
export interface PolicyTestJsonResult {
  file: string;
  name: string;
  line?: number;
  /** For the tests of a pack the policy includes: the pack and the policy whose params it ran with. */
  pack?: string;
  passed: boolean;
  expected: Expectation;
  actual: Decision;
  message?: string;
}

/** The JSON report: what `agentguard policy test --json` prints and `--reporter json` writes. */
export interface PolicyTestJson {
  passed: number;
  failed: number;
  results: PolicyTestJsonResult[];
  coverage?: PolicyCoverage[];
}

/** Maps a run onto the stable JSON contract (no absolute paths, no internal fields). */
export function toPolicyTestJson(run: PolicyTestRun): PolicyTestJson {
  return {
    passed: run.passed,
    failed: run.failed,
    results: run.results.map((r) => ({
      file: r.file,
      name: r.name,
      ...(r.line !== undefined ? { line: r.line } : {}),
      ...(r.pack !== undefined ? { pack: r.pack } : {}),
      passed: r.passed,
      expected: r.expected,
      actual: r.actual,
      ...(r.passed ? {} : { message: failureMessage(r.failures) }),
    })),
    ...(run.coverage ? { coverage: run.coverage } : {}),
  };
}

/** Writes the JSON report, pretty-printed, with a final newline. */
export class JsonReporter implements Reporter {
  report(run: PolicyTestRun, out: ReportWriter): void {
    out.write(`${JSON.stringify(toPolicyTestJson(run), null, 2)}\n`);
  }
}
