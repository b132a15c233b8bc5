import { stringify } from 'yaml';
import type { PolicyTestCaseResult, PolicyTestRun } from '../testing/types.js';
import { failureMessage, formatReason } from './describe.js';
import type { Reporter, ReportWriter } from './reporter.js';

/** TAP version 13: the plan `1..N`, one `ok`/`not ok` line per case, a YAML block with the details of each failure. */
export class TapReporter implements Reporter {
  report(run: PolicyTestRun, out: ReportWriter): void {
    out.write(`TAP version 13\n1..${run.results.length}\n`);
    let n = 0;
    for (const file of run.files) {
      out.write(`# ${comment(file.file)} (policy ${comment(file.policy)})\n`);
      for (const r of file.results) {
        n++;
        out.write(`${r.passed ? 'ok' : 'not ok'} ${n} - ${description(r.name)}\n`);
        if (!r.passed) out.write(diagnostics(r));
      }
    }
    for (const c of run.coverage ?? []) {
      out.write(`# coverage ${comment(c.policy)}: ${c.rules - c.uncovered.length}/${c.rules} rules reached${c.uncovered.length > 0 ? `; not reached: ${c.uncovered.join(', ')}` : ''}\n`);
    }
    out.write(`# ${run.passed} passed, ${run.failed} failed\n`);
  }
}

function diagnostics(r: PolicyTestCaseResult): string {
  const block = stringify(
    {
      message: failureMessage(r.failures),
      at: { file: r.file, line: r.line, column: r.column },
      policy: r.policy,
      expected: r.expected,
      actual: { effect: r.actual.effect, reasons: r.actual.reasons.map(formatReason), ...(r.expected.action !== undefined ? { action: r.actual.action } : {}) },
    },
    { lineWidth: 0 },
  );
  return `  ---\n${block.trimEnd().split('\n').map((line) => `  ${line}`).join('\n')}\n  ...\n`;
}

/** A test description may not contain a line break, and `#` would start a directive. */
function description(name: string): string {
  return name.replace(/\s*[\r\n]+\s*/g, ' ').replace(/\\/g, '\\\\').replace(/#/g, '\\#');
}

function comment(text: string): string {
  return text.replace(/[\r\n]+/g, ' ');
}
