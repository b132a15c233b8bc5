import type { Decision } from '../../core/action.js';
import type { AgentGuard } from '../../sdk/agent-guard.js';

const MAX_REMEMBERED = 1000;

/**
 * The decision of each tool call, by the SDK's callId, from the first time the SDK asks about it (needsApproval, the
 * input guardrail) until the tool ran: one decision per call, and the approval it waits for found again when the run
 * resumes. Kept per guard, so every guardTools of that guard and resolveApprovals share it.
 */
const byGuard = new WeakMap<AgentGuard, Map<string, Decision>>();

export function decisionsOf(guard: AgentGuard): Map<string, Decision> {
  let calls = byGuard.get(guard);
  if (!calls) byGuard.set(guard, (calls = new Map()));
  return calls;
}

export function remember(guard: AgentGuard, callId: string, decision: Decision): void {
  const calls = decisionsOf(guard);
  calls.delete(callId);
  calls.set(callId, decision);
  // Calls whose approval was rejected in the app never run: forget the oldest.
  if (calls.size > MAX_REMEMBERED) calls.delete(calls.keys().next().value!);
}
