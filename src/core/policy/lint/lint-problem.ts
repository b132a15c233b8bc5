import { formatJsonPath, type PathSegment, type PolicyProblem } from '../problem.js';

/** A lint finding before source positions are added: `segments` is where it sits in the document. */
export interface LintProblem extends Omit<PolicyProblem, 'line' | 'column'> {
  segments: PathSegment[];
  target?: 'key' | 'value';
}

/** Builds a LintProblem whose `path` is the display form of `segments`. */
export function lintProblem(
  severity: PolicyProblem['severity'],
  code: string,
  segments: PathSegment[],
  message: string,
  hint?: string,
  target: 'key' | 'value' = 'value',
): LintProblem {
  return { severity, code, message, path: formatJsonPath(segments), segments, target, ...(hint ? { hint } : {}) };
}
