import type { PolicyTestRun } from '../testing/types.js';
import { failureMessage, formatExpectation, formatReason } from './describe.js';
import type { Reporter, ReportWriter } from './reporter.js';

/** One GitHub Actions workflow command, e.g. `::error file=a.yaml,line=3,col=5,title=…::message`. */
export interface Annotation {
  level: 'error' | 'warning' | 'notice';
  file: string;
  line?: number;
  column?: number;
  title: string;
  message: string;
}

/** Formats an annotation with GitHub's escaping (`%`, CR and LF everywhere; also `:` and `,` in properties). */
export function formatAnnotation(a: Annotation): string {
  const props = [`file=${escapeProperty(a.file)}`];
  if (a.line) props.push(`line=${a.line}`);
  if (a.line && a.column) props.push(`col=${a.column}`);
  props.push(`title=${escapeProperty(a.title)}`);
  return `::${a.level} ${props.join(',')}::${escapeData(a.message)}\n`;
}

function escapeData(text: string): string {
  return text.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

function escapeProperty(text: string): string {
  return escapeData(text).replace(/:/g, '%3A').replace(/,/g, '%2C');
}

/**
 * GitHub workflow annotations for failed cases, so failures show on the pull request at the case's line.
 * `file` is rewritten by `pathFor` (the CLI makes it relative to GITHUB_WORKSPACE).
 */
export class GithubAnnotationsReporter implements Reporter {
  constructor(private readonly pathFor: (absolutePath: string, shown: string) => string = (_abs, shown) => shown) {}

  report(run: PolicyTestRun, out: ReportWriter): void {
    for (const r of run.results) {
      if (r.passed) continue;
      const details = [
        failureMessage(r.failures),
        `expected: ${formatExpectation(r.expected)}`,
        `actual effect: ${r.actual.effect}`,
        ...r.actual.reasons.map((reason) => `reason: ${formatReason(reason)}`),
      ];
      out.write(formatAnnotation({ level: 'error', file: this.pathFor(r.path, r.file), line: r.line, column: r.column, title: `Policy test failed: ${r.name}`, message: details.join('\n') }));
    }
  }
}
