import { AgentGuardError } from '../errors.js';

/**
 * What a token may do: everything (`admin`); act and read as one agent only (`agent`); or read and decide approvals
 * as one named person (`approver`), who may decide only approvals whose rule names them (or names nobody).
 */
export type TokenScope = { kind: 'admin' } | { kind: 'agent'; agentId: string } | { kind: 'approver'; approver: string };

/** Longest agent id a token can be bound to: the same limit as `action.agent.id`. */
export const MAX_AGENT_ID_LENGTH = 256;

const AGENT_PREFIX = 'agent:';
const APPROVER_PREFIX = 'approver:';

/**
 * The scope as text, as the CLI prints it and the store keeps it: `admin` or `agent:<id>`.
 *
 * @example
 * formatScope({ kind: 'agent', agentId: 'support-bot' }); // 'agent:support-bot'
 */
export function formatScope(scope: TokenScope): string {
  if (scope.kind === 'admin') return 'admin';
  return scope.kind === 'agent' ? `${AGENT_PREFIX}${scope.agentId}` : `${APPROVER_PREFIX}${scope.approver}`;
}

/** The inverse of formatScope; null for text that is not a scope. */
export function parseScope(text: string): TokenScope | null {
  if (text === 'admin') return { kind: 'admin' };
  if (text.startsWith(AGENT_PREFIX)) {
    const agentId = text.slice(AGENT_PREFIX.length);
    return agentIdProblem(agentId) === null ? { kind: 'agent', agentId } : null;
  }
  if (text.startsWith(APPROVER_PREFIX)) {
    const approver = text.slice(APPROVER_PREFIX.length);
    return agentIdProblem(approver) === null ? { kind: 'approver', approver } : null;
  }
  return null;
}

/** Why `agentId` cannot be bound to a token, or null when it can. */
export function agentIdProblem(agentId: string): string | null {
  if (agentId.length === 0) return 'it is empty';
  if (agentId.length > MAX_AGENT_ID_LENGTH) return `it is ${agentId.length} characters long; the limit is ${MAX_AGENT_ID_LENGTH}`;
  if (agentId.trim() !== agentId) return 'it starts or ends with whitespace';
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(agentId)) return 'it contains control characters';
  return null;
}

/** An agent scope for `agentId`; a usage error (exit 2) naming the problem when the id cannot be used. */
export function agentScope(agentId: string): TokenScope {
  const problem = agentIdProblem(agentId);
  if (problem !== null) {
    throw new AgentGuardError('TOKEN_AGENT_ID_INVALID', `--agent ${JSON.stringify(agentId.slice(0, 80))} cannot be used as an agent id: ${problem}`, {
      actions: ['Pass the agent id exactly as the agent sends it in `action.agent.id`, e.g. --agent support-bot.'],
    });
  }
  return { kind: 'agent', agentId };
}

/** An approver scope for `name`; a usage error (exit 2) naming the problem when the name cannot be used. */
export function approverScope(name: string): TokenScope {
  const problem = agentIdProblem(name);
  if (problem !== null) {
    throw new AgentGuardError('TOKEN_APPROVER_INVALID', `--approver ${JSON.stringify(name.slice(0, 80))} cannot be used as an approver name: ${problem}`, {
      actions: ['Pass the name exactly as the policy lists it in `approval.approvers`, e.g. --approver alice@example.com.'],
    });
  }
  return { kind: 'approver', approver: name };
}
