/** One finding about a policy file: an error makes the policy unusable, a warning does not. */
export interface PolicyProblem {
  severity: 'error' | 'warning';
  /** Stable identifier of the check, e.g. `unknown-operator`, `redos`, `shadowed-rule`. */
  code: string;
  message: string;
  /** JSON path inside the document, e.g. `rules[2].when.input.amount`. */
  path: string;
  /** The file the problem is in, when it is not the policy itself (an included pack or file). */
  file?: string;
  line?: number;
  column?: number;
  hint?: string;
}

export type PathSegment = string | number;

/** `['rules', 2, 'when', 'input.amount']` → `rules[2].when["input.amount"]`-style display. */
export function formatJsonPath(segments: readonly PathSegment[]): string {
  let out = '';
  for (const s of segments) {
    if (typeof s === 'number') out += `[${s}]`;
    else out += out === '' ? s : `.${s}`;
  }
  return out;
}
