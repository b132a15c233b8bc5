import { AgentGuardError } from '../core/errors.js';
import type { Action, Decision } from '../core/action.js';
import { AgentGuardDeniedError } from './errors.js';

/**
 * A tool's result as the policy lets the agent read it: decided as `{ kind: 'tool_output', name, input: { content:
 * [<the result: a string as is, anything else as JSON>] } }`. Allow returns it, transform the rewritten text (parsed
 * back for a non-string result), deny or require_approval throw AgentGuardDeniedError. With `context.session.id`, an
 * injection found in it taints the session (in the pipeline).
 */
export async function checkToolResult<R>(decide: (action: Action) => Promise<Decision>, name: string, result: R, context: Record<string, unknown> | undefined): Promise<R> {
  const text = typeof result === 'string' ? result : JSON.stringify(result);
  if (text === undefined) return result; // undefined or a function: nothing the agent can read
  const decision = await decide({ kind: 'tool_output', name, input: { content: [text] }, ...(context ? { context } : {}) });
  if (decision.effect === 'allow') return result;
  if (decision.effect !== 'transform') throw new AgentGuardDeniedError(decision);
  const content = decision.action.input?.content;
  const rewritten = Array.isArray(content) && content.length === 1 && typeof content[0] === 'string' ? content[0] : undefined;
  if (rewritten !== undefined && typeof result === 'string') return rewritten as R;
  try {
    if (rewritten !== undefined) return JSON.parse(rewritten) as R;
  } catch {
    // falls through: a rewrite that is no longer JSON cannot be handed back as the function's value
  }
  throw new AgentGuardError('TRANSFORM_SHAPE', `the policy's transform of the result of ${name} cannot be returned as its value, so it was withheld`);
}
