import type { PolicyTestRun } from '../testing/types.js';

/** Where a reporter writes: process.stdout, a file buffer, or a string in tests. */
export interface ReportWriter {
  write(text: string): unknown;
}

/**
 * Renders a test run. Every format implements this one interface and writes to the writer it is
 * given, so the command decides where output goes (stdout or `--output <file>`).
 */
export interface Reporter {
  report(run: PolicyTestRun, out: ReportWriter): void;
}

/** Collects everything written, for `--output` and for tests. */
export class StringWriter implements ReportWriter {
  private chunks: string[] = [];

  write(text: string): void {
    this.chunks.push(text);
  }

  toString(): string {
    return this.chunks.join('');
  }
}
