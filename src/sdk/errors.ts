import type { Decision } from '../core/action.js';
import { AgentGuardError } from '../core/errors.js';

/** Thrown by `protect()` when the decision is deny: the protected function did not run. */
export class AgentGuardDeniedError extends AgentGuardError {
  override name = 'AgentGuardDeniedError';
  readonly decision: Decision;

  constructor(decision: Decision) {
    const why = decision.reasons.map((r) => r.message).join('; ') || 'denied';
    super('ACTION_DENIED', `${decision.action?.name ?? 'action'} was denied: ${why}`);
    this.decision = decision;
  }
}

/** Thrown by `protect()` when the decision is require_approval: the protected function did not run. */
export class ApprovalRequiredError extends AgentGuardError {
  override name = 'ApprovalRequiredError';
  readonly decision: Decision;

  constructor(decision: Decision) {
    const why = decision.reasons.map((r) => r.message).join('; ');
    super('APPROVAL_REQUIRED', `${decision.action?.name ?? 'action'} needs approval: ${why}`);
    this.decision = decision;
  }
}

export function isAgentGuardDeniedError(value: unknown): value is AgentGuardDeniedError {
  return value instanceof AgentGuardDeniedError;
}
