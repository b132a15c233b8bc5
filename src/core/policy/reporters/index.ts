import { GithubAnnotationsReporter } from './github.js';
import { JsonReporter } from './json.js';
import { JUnitReporter } from './junit.js';
import { PrettyReporter, type TextStyle } from './pretty.js';
import type { Reporter } from './reporter.js';
import { TapReporter } from './tap.js';

/** Report formats selectable with `--reporter`. */
export const REPORTER_NAMES = ['pretty', 'json', 'junit', 'tap'] as const;
export type ReporterName = (typeof REPORTER_NAMES)[number];

/** The reporter for a format name; `style` colours the pretty format only. */
export function createReporter(name: ReporterName, options: { style?: TextStyle } = {}): Reporter {
  switch (name) {
    case 'pretty':
      return new PrettyReporter(options.style);
    case 'json':
      return new JsonReporter();
    case 'junit':
      return new JUnitReporter();
    case 'tap':
      return new TapReporter();
  }
}

export { GithubAnnotationsReporter, JsonReporter, JUnitReporter, PrettyReporter, TapReporter };
export type { Reporter, TextStyle };
