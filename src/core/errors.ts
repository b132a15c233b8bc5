/**
 * The one error base class of agentguard. Every error a user can see carries a stable
 * `code`, a message that names what went wrong and where, and `actions` saying what to do next.
 *
 * @example
 * throw new AgentGuardError('POLICY_NOT_FOUND', 'Cannot read policy.yaml: no such file', {
 *   actions: ['Check the path, or run `agentguard init` to create a starter policy.'],
 *   exitCode: 2,
 * });
 */
export class AgentGuardError extends Error {
  override name = 'AgentGuardError';
  readonly code: string;
  readonly actions: string[];
  /** Exit code a CLI should use: 1 the checked thing failed, 2 usage or unreadable input. */
  readonly exitCode: number;

  constructor(code: string, message: string, options: { actions?: string[]; exitCode?: number; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.actions = options.actions ?? [];
    this.exitCode = options.exitCode ?? 2;
  }
}

export function isAgentGuardError(value: unknown): value is AgentGuardError {
  return value instanceof AgentGuardError;
}

/** Exit codes shared by every command. */
export const ExitCode = {
  ok: 0,
  failed: 1,
  usage: 2,
  internal: 70,
} as const;

/** Maps any thrown value to the exit code a command should end with. */
export function exitCodeFor(error: unknown): number {
  if (isAgentGuardError(error)) return error.exitCode;
  return ExitCode.internal;
}
