import { performance } from 'node:perf_hooks';
import type { Action, Decision } from '../../core/action.js';
import { AgentGuardError } from '../../core/errors.js';
import { isPlainObject } from '../../core/plain-object.js';
import type { AgentGuard } from '../../sdk/agent-guard.js';
import { settleApproval, type ApprovalWaitOptions } from '../../sdk/approvals.js';
import { AgentGuardDeniedError, ApprovalRequiredError } from '../../sdk/errors.js';
import { snapshot } from '../../sdk/snapshot.js';
import { checkToolResult } from '../../sdk/tool-result.js';

/** A tool call as a framework hands it over, mapped onto a `kind: "tool"` action. */
export interface ToolCall {
  name: string;
  input: unknown;
  context: Record<string, unknown>;
}

/** The action a tool call is decided as: its arguments as input (an object; anything else as `{ arguments }`). */
export function toolAction(call: ToolCall): Action {
  const input = snapshot(call.input);
  return { kind: 'tool', name: call.name, input: isPlainObject(input) ? input : { arguments: input }, context: call.context };
}

/**
 * The decision a tool may run under: allow or transform. A require_approval decision waits for the person's answer
 * when `wait` is given (and ends in allow, with the approval spent on this run, or deny); deny and an approval not
 * waited for throw (AgentGuardDeniedError, ApprovalRequiredError), so the tool does not run.
 */
export async function runnableDecision(guard: AgentGuard, decision: Decision, wait: ApprovalWaitOptions | undefined): Promise<Decision> {
  let settled = decision;
  if (decision.effect === 'require_approval') {
    if (!wait || !decision.approval) throw new ApprovalRequiredError(decision);
    settled = await settleApproval(guard.approvals, decision, wait);
  }
  if (settled.effect !== 'allow' && settled.effect !== 'transform') throw new AgentGuardDeniedError(settled);
  return settled;
}

/** The input a tool runs with: the policy's transformed arguments, in the shape the tool was called with. */
export function inputToRun(decision: Decision, original: unknown): unknown {
  if (decision.effect !== 'transform') return original;
  const input = decision.action.input;
  if (isPlainObject(original)) {
    if (!isPlainObject(input)) throw new AgentGuardError('TRANSFORM_SHAPE', `the policy's transform left ${decision.action.name} without an input object, so it was not run`);
    return input;
  }
  if (!isPlainObject(input) || !('arguments' in input)) throw new AgentGuardError('TRANSFORM_SHAPE', `the policy's transform removed the arguments of ${decision.action.name}, so it was not run`);
  return input.arguments;
}

/**
 * Runs a tool whose call was allowed: with the input the decision gives, its outcome recorded, then its result
 * decided as `tool_output` before the agent reads it (redacted on transform; deny throws; an injection in it taints
 * the session named in the context).
 */
export async function runAllowedTool<R>(guard: AgentGuard, decision: Decision, call: ToolCall, run: (input: unknown) => Promise<R> | R): Promise<R> {
  const input = inputToRun(decision, call.input);
  const started = performance.now();
  let result: R;
  try {
    result = await run(input);
  } catch (error) {
    await outcomeQuietly(guard, decision, { status: 'error', durationMs: performance.now() - started, error: error instanceof Error ? error.message : String(error) });
    throw error;
  }
  await outcomeQuietly(guard, decision, { status: 'ok', durationMs: performance.now() - started });
  return checkToolResult((action) => guard.decide(action), call.name, result, call.context);
}

/** Decides a tool call, and runs it only when it may run (see runnableDecision and runAllowedTool). */
export async function guardedToolRun<R>(guard: AgentGuard, call: ToolCall, run: (input: unknown) => Promise<R> | R, wait?: ApprovalWaitOptions): Promise<R> {
  const decision = await runnableDecision(guard, await guard.decide(toolAction(call)), wait);
  return runAllowedTool(guard, decision, call, run);
}

/** The tool already ran: failing to record its outcome must not turn its result into an error. */
async function outcomeQuietly(guard: AgentGuard, decision: Decision, outcome: { status: 'ok' | 'error'; durationMs: number; error?: string }): Promise<void> {
  try {
    await guard.recordOutcome(decision, outcome);
  } catch (error) {
    process.emitWarning(`agentguard: could not record the outcome of ${decision.id}: ${(error as Error).message}`, { code: 'AGENTGUARD_AUDIT' });
  }
}

/** Why a tool call was refused, as the model may read it: the policy's messages, never the arguments. */
export function refusalText(decision: Decision): string {
  const why = decision.reasons.map((r) => r.message).filter(Boolean).join('; ') || 'denied by policy';
  const name = decision.action?.name ?? 'this tool call';
  return decision.action?.kind === 'tool_output' ? `agentguard withheld the result of ${name}: ${why}` : `agentguard refused ${name}: ${why}`;
}
