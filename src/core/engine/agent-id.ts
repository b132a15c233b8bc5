import type { Action } from '../action.js';

/**
 * The action with `agentId` put on it when it names no agent; the action itself (not a copy) otherwise, and for
 * anything that is not an object (the pipeline then refuses it as invalid).
 */
export function withAgentId(action: Action, agentId: string | undefined): Action {
  if (!agentId || action === null || typeof action !== 'object' || action.agent?.id) return action;
  return { ...action, agent: { ...(action.agent ?? {}), id: agentId } };
}
