import type { PolicyCoverage, PolicyTestCaseResult, PolicyTestRun } from '../testing/types.js';
import { failureMessage, formatExpectation, formatReason, locationOf } from './describe.js';
import type { Reporter, ReportWriter } from './reporter.js';
import { xmlAttr, xmlText } from './xml.js';

/**
 * JUnit XML, as read by CI systems (GitHub, GitLab, Jenkins): one `<testsuite>` per test file,
 * one `<testcase>` per case, a `<failure>` with the details for each failed case.
 */
export class JUnitReporter implements Reporter {
  report(run: PolicyTestRun, out: ReportWriter): void {
    const total = run.results.length;
    out.write('<?xml version="1.0" encoding="UTF-8"?>\n');
    out.write(`<testsuites name="agentguard policy test" tests="${total}" failures="${run.failed}" errors="0" time="${seconds(run.results)}">\n`);
    for (const file of run.files) {
      const failed = file.results.filter((r) => !r.passed).length;
      const coverage = run.coverage?.find((c) => c.policy === file.policy);
      out.write(
        `  <testsuite name="${xmlAttr(file.file)}" tests="${file.results.length}" failures="${failed}" errors="0" skipped="0" time="${seconds(file.results)}">\n`,
      );
      out.write(properties(file.policy, coverage));
      for (const r of file.results) out.write(testcase(r));
      out.write('  </testsuite>\n');
    }
    out.write('</testsuites>\n');
  }
}

function properties(policy: string, coverage: PolicyCoverage | undefined): string {
  const props: Array<[string, string | number]> = [['policy', policy]];
  if (coverage) props.push(['coverage.rules', coverage.rules], ['coverage.uncovered', coverage.uncovered.join(',')]);
  return `    <properties>\n${props.map(([name, value]) => `      <property name="${xmlAttr(name)}" value="${xmlAttr(value)}"/>\n`).join('')}    </properties>\n`;
}

function testcase(r: PolicyTestCaseResult): string {
  const attrs = `name="${xmlAttr(r.name)}" classname="${xmlAttr(r.file)}" file="${xmlAttr(r.file)}"${r.line ? ` line="${r.line}"` : ''} time="${seconds([r])}"`;
  if (r.passed) return `    <testcase ${attrs}/>\n`;
  const details = [
    `at: ${locationOf(r.file, r)}`,
    `policy: ${r.policy}`,
    `expected: ${formatExpectation(r.expected)}`,
    `actual effect: ${r.actual.effect}`,
    ...r.actual.reasons.map((reason) => `reason: ${formatReason(reason)}`),
    ...(r.expected.action !== undefined ? [`actual action: ${JSON.stringify(r.actual.action)}`] : []),
    ...r.failures.map((f) => `why: ${f}`),
  ].join('\n');
  return `    <testcase ${attrs}>\n      <failure message="${xmlAttr(failureMessage(r.failures))}" type="PolicyTestFailure">${xmlText(details)}</failure>\n    </testcase>\n`;
}

function seconds(results: readonly PolicyTestCaseResult[]): string {
  return (results.reduce((sum, r) => sum + r.actual.elapsedUs, 0) / 1e6).toFixed(6);
}
