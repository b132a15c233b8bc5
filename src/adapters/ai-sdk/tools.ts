import type { ToolApprovalConfiguration, ToolSet } from 'ai';
import type { Decision } from '../../core/action.js';
import { canonicalJson } from '../../core/canonical-json.js';
import { AgentGuardError } from '../../core/errors.js';
import { settleApproval, type ApprovalWaitOptions } from '../../sdk/approvals.js';
import type { AgentGuard } from '../../sdk/agent-guard.js';
import { snapshot } from '../../sdk/snapshot.js';
import { adapterContext, type AdapterOptions } from '../shared/context.js';
import { refusalText, runAllowedTool, runnableDecision, toolAction, type ToolCall } from '../shared/tool-run.js';

export interface GuardToolsOptions extends AdapterOptions {
  /**
   * How long to wait for a person's answer to an agentguard approval: in `execute` when the tool call was not seen by
   * `guardToolApproval` (default: do not wait, the call fails with ApprovalRequiredError), and when the AI SDK resumes
   * an approved call (default: one look at the approval, no wait).
   */
  waitForApproval?: boolean | ApprovalWaitOptions;
}

/** A decision made by guardToolApproval, for the call it was made for (its tool and arguments). */
interface Remembered {
  decision: Decision;
  call: string;
}

/** Decisions made by guardToolApproval, kept for the `execute` of the same tool call (by toolCallId). */
interface ToolsState {
  guard: AgentGuard;
  context: Record<string, unknown>;
  wait?: ApprovalWaitOptions;
  names: Set<string>;
  decisions: Map<string, Remembered>;
}

/** What a remembered decision must have been made for: the same tool with the same arguments. */
function callKey(name: string, input: unknown): string {
  return canonicalJson({ name, input: snapshot(input) ?? null });
}

/** The decision guardToolApproval made for exactly this call, taken (each is used once); undefined otherwise. */
function take(state: ToolsState, id: string, name: string, input: unknown): Decision | undefined {
  const remembered = state.decisions.get(id);
  state.decisions.delete(id);
  // A tool call id the provider reused for another call must not carry the first call's decision over.
  return remembered && remembered.call === callKey(name, input) ? remembered.decision : undefined;
}

const MAX_REMEMBERED = 1000;
const states = new WeakMap<object, ToolsState>();

function remember(state: ToolsState, id: string, name: string, input: unknown, decision: Decision): void {
  state.decisions.delete(id);
  state.decisions.set(id, { decision, call: callKey(name, input) });
  // Calls the person refused in the app never reach execute: forget the oldest.
  if (state.decisions.size > MAX_REMEMBERED) state.decisions.delete(state.decisions.keys().next().value!);
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return value !== null && typeof value === 'object' && Symbol.asyncIterator in value;
}

type Execute = (input: unknown, options: { toolCallId: string }) => unknown;

async function execute(state: ToolsState, name: string, run: Execute, input: unknown, options: { toolCallId: string }): Promise<unknown> {
  const call: ToolCall = { name, input, context: { ...state.context, toolCallId: options.toolCallId } };
  const early = take(state, options.toolCallId, name, input);
  const decision = await runnableDecision(state.guard, early ?? (await state.guard.decide(toolAction(call))), state.wait);
  const result = await runAllowedTool(state.guard, decision, call, async (given) => {
    const value = run(given, options);
    // A streaming tool: its values are checked one by one below, never released unchecked.
    return isAsyncIterable(value) ? value : await value;
  });
  if (!isAsyncIterable(result)) return result;
  return (async function* checked() {
    const { checkToolResult } = await import('../../sdk/tool-result.js');
    for await (const value of result) yield await checkToolResult((action) => state.guard.decide(action), name, value, call.context);
  })();
}

/**
 * The tools with each `execute` guarded: every call is decided as `kind: "tool"` (name the tool's key, input its
 * arguments, `context.framework: "ai-sdk"`, `context.toolCallId`) before it runs, and runs only on allow or transform
 * (with the transformed arguments); its result is decided as `tool_output` before the model reads it (redacted on
 * transform, an injection taints the session). Deny throws, so the AI SDK hands the model a tool error and the
 * tool never runs. Pass `guardToolApproval(tools)` as `toolApproval` too, to use the AI SDK's own approval flow.
 * Tools without `execute` (run by the app or the provider) are returned as they are.
 */
export function guardTools<T extends ToolSet>(tools: T, options: GuardToolsOptions): T {
  const context = adapterContext(options, 'ai-sdk', 'guardTools');
  if (tools === null || typeof tools !== 'object') throw new AgentGuardError('GUARD_OPTIONS_INVALID', 'guardTools needs the tool set: an object of AI SDK tools by name', { actions: ['guardTools({ weather: tool({ … }) }, { guard })'] });
  const wait = options.waitForApproval === true ? {} : options.waitForApproval || undefined;
  const state: ToolsState = { guard: options.guard, context, ...(wait ? { wait } : {}), names: new Set(), decisions: new Map() };
  const guarded: Record<string, unknown> = {};
  for (const [name, tool] of Object.entries(tools)) {
    const run = (tool as { execute?: Execute }).execute;
    if (typeof run !== 'function') {
      guarded[name] = tool;
      continue;
    }
    state.names.add(name);
    guarded[name] = { ...tool, execute: (input: unknown, opts: { toolCallId: string }) => execute(state, name, run.bind(tool), input, opts) };
  }
  states.set(guarded, state);
  return guarded as T;
}

/**
 * The AI SDK's `toolApproval` (generateText, streamText, ToolLoopAgent) for tools wrapped by guardTools: each call
 * is decided before it runs. Deny → `denied` with the policy's reason (the model sees the AI SDK's refusal, the tool
 * never runs); require_approval → `user-approval`, with the agentguard approval id in the reason. When the app
 * resumes with the person's answer, the agentguard approval decides: the call runs once if it was approved
 * (through `agentguard approvals approve <id>`, Slack, or the sidecar), otherwise it is denied.
 */
export function guardToolApproval<T extends ToolSet>(tools: T): ToolApprovalConfiguration<T, unknown> {
  const state = states.get(tools);
  if (!state) throw new AgentGuardError('GUARD_OPTIONS_INVALID', 'guardToolApproval needs the tools returned by guardTools', { actions: ['const tools = guardTools(myTools, { guard }); generateText({ model, tools, toolApproval: guardToolApproval(tools) })'] });
  const approval = async ({ toolCall }: { toolCall: { toolCallId: string; toolName: string; input: unknown } }) => {
    if (!state.names.has(toolCall.toolName)) return undefined;
    const remembered = state.decisions.get(toolCall.toolCallId);
    const pending = remembered?.call === callKey(toolCall.toolName, toolCall.input) ? remembered.decision : undefined;
    if (pending?.effect === 'require_approval' && pending.approval) {
      // The app resumes a call the person was asked about: the agentguard approval decides, and is spent on this run.
      const settled = await settleApproval(state.guard.approvals, pending, state.wait ?? { timeoutMs: 0 });
      if (settled.effect !== 'allow') {
        state.decisions.delete(toolCall.toolCallId);
        return { type: 'denied' as const, reason: refusalText(settled) };
      }
      remember(state, toolCall.toolCallId, toolCall.toolName, toolCall.input, settled);
      return { type: 'approved' as const, reason: `agentguard approval ${pending.approval.id} was approved` };
    }
    if (pending?.effect === 'allow' || pending?.effect === 'transform') return undefined;
    const call: ToolCall = { name: toolCall.toolName, input: toolCall.input, context: { ...state.context, toolCallId: toolCall.toolCallId } };
    const decision = await state.guard.decide(toolAction(call));
    if (decision.effect === 'allow' || decision.effect === 'transform') {
      remember(state, toolCall.toolCallId, toolCall.toolName, toolCall.input, decision);
      return undefined;
    }
    if (decision.effect === 'require_approval' && decision.approval) {
      remember(state, toolCall.toolCallId, toolCall.toolName, toolCall.input, decision);
      const why = decision.reasons.map((r) => r.message).filter(Boolean).join('; ');
      return { type: 'user-approval' as const, reason: `${why || 'The policy requires approval'} (agentguard approval ${decision.approval.id}: agentguard approvals approve ${decision.approval.id})` };
    }
    return { type: 'denied' as const, reason: refusalText(decision) };
  };
  return approval as unknown as ToolApprovalConfiguration<T, unknown>;
}
