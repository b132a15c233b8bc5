import { AgentGuardError } from '../errors.js';
import type { PolicyProblem } from './problem.js';

/** A policy that failed validation. `problems` holds every error (and any warnings) with positions. */
export class PolicyError extends AgentGuardError {
  override name = 'PolicyError';
  readonly filename: string;
  readonly problems: PolicyProblem[];

  constructor(filename: string, problems: PolicyProblem[]) {
    const errors = problems.filter((p) => p.severity === 'error');
    const first = errors[0];
    const where = first?.line ? `${first.file ?? filename}:${first.line}:${first.column}` : (first?.file ?? filename);
    const more = errors.length > 1 ? ` (and ${errors.length - 1} more error${errors.length > 2 ? 's' : ''})` : '';
    super('POLICY_INVALID', `${where} ${first?.path ? `${first.path}: ` : ''}${first?.message ?? 'invalid policy'}${more}`, {
      actions: [first?.hint, `Run \`agentguard policy validate ${filename}\` to see every problem.`].filter((a): a is string => Boolean(a)),
    });
    this.filename = filename;
    this.problems = problems;
  }
}

export function isPolicyError(value: unknown): value is PolicyError {
  return value instanceof PolicyError;
}
