import type { PolicyTestCaseResult, PolicyTestRun } from '../testing/types.js';
import { formatExpectation, formatReason, locationOf } from './describe.js';
import type { Reporter, ReportWriter } from './reporter.js';

/** Colour functions the caller may inject (the CLI passes its terminal styles); plain text by default. */
export interface TextStyle {
  pass(text: string): string;
  fail(text: string): string;
  bold(text: string): string;
  dim(text: string): string;
}

const plain: TextStyle = { pass: (t) => t, fail: (t) => t, bold: (t) => t, dim: (t) => t };
const RULE = '-'.repeat(80);

/**
 * Human-readable report in the manner of `opa test`: a PASS/FAIL line per case grouped by test file,
 * a FAILURES section with each failed case's location and values, optional COVERAGE, then the counts.
 */
export class PrettyReporter implements Reporter {
  constructor(private readonly style: TextStyle = plain) {}

  report(run: PolicyTestRun, out: ReportWriter): void {
    const s = this.style;
    for (const file of run.files) {
      out.write(`${s.bold(file.file)} ${s.dim(`(policy ${file.policy})`)}\n`);
      for (const r of file.results) out.write(`  ${r.passed ? s.pass('PASS') : s.fail('FAIL')} ${oneLine(r.name)}\n`);
    }
    const failures = run.results.filter((r) => !r.passed);
    if (failures.length > 0) {
      out.write(`\n${s.bold('FAILURES')}\n${RULE}\n`);
      failures.forEach((r, i) => out.write(`${i > 0 ? '\n' : ''}${this.failure(r)}`));
    }
    if (run.coverage) {
      out.write(`\n${s.bold('COVERAGE')}\n${RULE}\n`);
      for (const c of run.coverage) {
        const reached = c.rules - c.uncovered.length;
        out.write(`${c.policy}: ${reached}/${c.rules} rules reached by a case\n`);
        if (c.uncovered.length > 0) out.write(`  ${s.fail('not reached:')} ${c.uncovered.join(', ')}\n`);
      }
    }
    const total = run.results.length;
    const counts = `${run.passed} passed, ${run.failed} failed`;
    out.write(`\n${s.bold('SUMMARY')}\n${RULE}\n`);
    out.write(`${run.failed > 0 ? s.fail(counts) : s.pass(counts)} ${s.dim(`(${total} case${total === 1 ? '' : 's'} in ${run.files.length} file${run.files.length === 1 ? '' : 's'})`)}\n`);
  }

  private failure(r: PolicyTestCaseResult): string {
    const s = this.style;
    const lines = [`${locationOf(r.file, r)}: ${s.fail('FAIL')} ${oneLine(r.name)}`];
    const field = (label: string, value: string) => lines.push(`  ${s.dim(label.padEnd(16))}${value}`);
    field('policy', r.policy);
    field('expected', formatExpectation(r.expected));
    field('actual effect', r.actual.effect);
    if (r.actual.reasons.length === 0) field('reasons', 'none');
    r.actual.reasons.forEach((reason, i) => field(i === 0 ? 'reasons' : '', formatReason(reason)));
    if (r.expected.action !== undefined) field('actual action', JSON.stringify(r.actual.action));
    r.failures.forEach((f, i) => field(i === 0 ? 'why' : '', s.fail(f)));
    return `${lines.join('\n')}\n`;
  }
}

/** Case names are free text; keep each on one line of the report. */
function oneLine(text: string): string {
  return text.replace(/\s*[\r\n]+\s*/g, ' ');
}
