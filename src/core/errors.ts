import { errorBody, type ErrorBody } from './errors/body.js';
import { errorSpec, type ErrorCode } from './errors/registry.js';

export { ERRORS, ERROR_AREAS, errorSpec, isErrorCode, type ErrorCode, type ErrorSpec } from './errors/registry.js';
export { errorBody, errorBodyJsonSchema, type ErrorBody } from './errors/body.js';

export interface AgentGuardErrorOptions {
  /** What to do next; the registry's fix when left out (an empty list means none). */
  actions?: string[];
  /** Only where it differs from the registry's exit code for this code. */
  exitCode?: number;
  /** Only where it differs from the registry's HTTP status for this code. */
  status?: number;
  /** More to say to a machine reader (a validation's `problems`, a `limit`); goes into the JSON body's `details`. */
  details?: Record<string, unknown>;
  cause?: unknown;
}

/**
 * The one error base class of agentguard. Every error a user can see carries a registered `code` (src/core/errors/
 * codes/), a message that names what went wrong and where, and `actions` saying what to do next. Its exit code and
 * HTTP status come from the registry.
 *
 * @example
 * throw new AgentGuardError('NO_POLICY_TESTS', `no policy test files found in ${folder}`, {
 *   actions: ['Pass a test file (*.test.yaml) or a folder that contains some.'],
 * });
 */
export class AgentGuardError extends Error {
  override name = 'AgentGuardError';
  readonly code: ErrorCode;
  readonly actions: string[];
  /** Exit code a CLI should use: 1 the checked thing failed, 2 usage or unreadable input. */
  readonly exitCode: number;
  /** HTTP status when the error answers a sidecar request. */
  readonly status: number;
  readonly details?: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, options: AgentGuardErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    const spec = errorSpec(code);
    this.code = code;
    this.actions = options.actions ?? [spec.fix];
    this.exitCode = options.exitCode ?? spec.exit;
    this.status = options.status ?? spec.status;
    if (options.details !== undefined) this.details = options.details;
  }

  /** The error in the shared JSON shape (CLI `--json`, sidecar answers). */
  toBody(): ErrorBody {
    return errorBody(this.code, this.message, this.actions, this.details);
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
