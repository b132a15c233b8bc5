import { performance } from 'node:perf_hooks';
import type { Decision } from '../../core/action.js';
import { canonicalJson } from '../../core/canonical-json.js';
import { AgentGuardError } from '../../core/errors.js';
import { isPlainObject } from '../../core/plain-object.js';
import { settleApproval } from '../../sdk/approvals.js';
import { decideToolCall } from '../../sdk/llm/mediate.js';
import { replaceText, setContent, textOf, type MessageLike } from './messages.js';
import { contextFor, type MiddlewareSettings, type RuntimeLike } from './options.js';
import type { LangChainPeers } from './peers.js';

/** The fields of LangChain's ToolCallRequest the middleware reads. */
export interface ToolCallRequestLike {
  toolCall: { id?: string; name: string; args: unknown; [key: string]: unknown };
  runtime?: RuntimeLike;
  [key: string]: unknown;
}

type ToolResult = MessageLike & { status?: string };

const MAX_INTERRUPTED = 10_000;

const reasonsOf = (decision: Decision): string => decision.reasons.map((r) => r.message).filter(Boolean).join('; ') || decision.effect;

/** What an interrupted run is resumed with: `{ decisions: [{ type: "approve" | "reject", message? }] }` (LangChain's HITL response), or one decision. */
function resumeDecision(value: unknown): { type?: unknown; message?: unknown; approvalId?: unknown } {
  const decisions = isPlainObject(value) && Array.isArray(value.decisions) ? value.decisions : undefined;
  const first = decisions ? decisions[0] : value;
  return isPlainObject(first) ? first : typeof first === 'string' ? { type: first } : {};
}

/** LangGraph's interrupt() in a graph compiled without a checkpointer: nothing could resume the run. */
function isMissingCheckpointer(error: unknown): boolean {
  return (error as { lc_error_code?: unknown } | null)?.lc_error_code === 'MISSING_CHECKPOINTER';
}

/**
 * wrapToolCall: each tool call is decided as `kind: "tool"` with its arguments before it runs. Deny: the tool never
 * runs, and the model gets a ToolMessage refusal. Transform: it runs with the transformed arguments. Approval: a
 * LangGraph interrupt (with a checkpointer) or a bounded wait for agentguard's approval. Its result is decided as
 * `tool_output` before the model reads it (redacted, withheld, or the session tainted by an injection).
 */
export function guardToolCall(settings: MiddlewareSettings, peers: LangChainPeers) {
  // Decisions waiting on an interrupt of this process, so a resumed run settles the approval it asked for instead of
  // asking for a second one (the node runs again from its start when the run is resumed).
  const interrupted = new Map<string, Decision>();
  const remember = (key: string, decision: Decision) => {
    // Runs that are never resumed must not make this grow without bound: the oldest waiting decisions are dropped
    // (resuming one of those later asks for a new approval, or settles the approval named in the resume value).
    if (interrupted.size >= MAX_INTERRUPTED) interrupted.delete(interrupted.keys().next().value!);
    interrupted.set(key, decision);
  };

  const refusal = (request: ToolCallRequestLike, text: string): ToolResult =>
    new peers.ToolMessage({ content: text, tool_call_id: request.toolCall.id ?? '', name: request.toolCall.name, status: 'error' }) as ToolResult;

  const approve = async (request: ToolCallRequestLike, decision: Decision, key: string): Promise<Decision> => {
    const waitOptions = settings.approval.wait;
    const interrupt = request.runtime?.interrupt;
    if (settings.approval.mode !== 'wait' && typeof interrupt === 'function') {
      const id = decision.approval!.id;
      let resumed: unknown;
      remember(key, decision);
      try {
        resumed = interrupt({
          actionRequests: [{ name: request.toolCall.name, args: request.toolCall.args, description: `agentguard: ${reasonsOf(decision)}. Approve it (agentguard approvals approve ${id}), then resume with { decisions: [{ type: "approve" }] }.` }],
          reviewConfigs: [{ actionName: request.toolCall.name, allowedDecisions: ['approve', 'reject'] }],
          agentguard: { approvalId: id, decisionId: decision.id, expiresAt: decision.approval!.expiresAt ?? null },
        });
      } catch (error) {
        // LangGraph's interrupt pauses the run by throwing (a "bubble-up" error): the decision waits here for the resume.
        if ((error as { is_bubble_up?: unknown } | null)?.is_bubble_up === true) throw error;
        interrupted.delete(key);
        if (!isMissingCheckpointer(error)) throw error;
        if (settings.approval.mode === 'interrupt') {
          throw new AgentGuardError('GUARD_OPTIONS_INVALID', `agentguardMiddleware: approval.mode "interrupt" needs an agent with a checkpointer, so ${request.toolCall.name} (approval ${id}) could not pause and did not run`, {
            actions: ['Pass a checkpointer to createAgent (e.g. new MemorySaver()), or use approval: { mode: "wait" }.'],
          });
        }
        return settleApproval(settings.guard.approvals, decision, waitOptions);
      }
      interrupted.delete(key);
      const answer = resumeDecision(resumed);
      if (answer.type !== 'approve') {
        const why = typeof answer.message === 'string' && answer.message !== '' ? `: ${answer.message}` : '';
        return { ...decision, effect: 'deny', reasons: [...decision.reasons, { effect: 'deny', code: 'approval_rejected_on_resume', message: `The run was resumed with ${JSON.stringify(answer.type ?? null)} instead of approve${why}` }] };
      }
      // Resumed in another process: the approval the person saw is named in the resume value.
      const named = typeof answer.approvalId === 'string' && answer.approvalId !== id ? { ...decision, approval: { ...decision.approval!, id: answer.approvalId } } : decision;
      return settleApproval(settings.guard.approvals, named, waitOptions);
    }
    return settleApproval(settings.guard.approvals, decision, waitOptions);
  };

  return async (request: ToolCallRequestLike, handler: (request: ToolCallRequestLike) => Promise<unknown>): Promise<unknown> => {
    const { guard } = settings;
    const { name, args } = request.toolCall;
    const context: Record<string, unknown> = { ...contextFor(settings, request.runtime), ...(request.toolCall.id ? { toolCallId: request.toolCall.id } : {}) };
    const key = `${context.session ? JSON.stringify(context.session) : ''}\u0000${request.toolCall.id ?? ''}\u0000${canonicalJson(args ?? null)}`;
    let decision = interrupted.get(key) ?? (await decideToolCall(guard, name, args, context));
    if (decision.effect === 'require_approval' && decision.approval) decision = await approve(request, decision, key);
    if (decision.effect !== 'allow' && decision.effect !== 'transform') {
      return refusal(request, `agentguard did not let ${name} run: ${reasonsOf(decision)} (decision ${decision.id})`);
    }
    const toolCall = decision.effect === 'transform' ? { ...request.toolCall, args: decision.action.input } : request.toolCall;
    const started = performance.now();
    let result: unknown;
    try {
      result = await handler({ ...request, toolCall });
    } catch (error) {
      await outcomeQuietly(settings, decision, { status: 'error', durationMs: performance.now() - started, error: error instanceof Error ? error.message : String(error) });
      throw error;
    }
    const failed = typeof result === 'object' && (result as ToolResult | null)?.status === 'error';
    await outcomeQuietly(settings, decision, { status: failed ? 'error' : 'ok', durationMs: performance.now() - started });
    if (!settings.checkToolResults) return result;
    return checkedResult(settings, request, result as ToolResult, context, refusal);
  };
}

/** The tool's result as the policy lets the model read it: as it is, redacted, or withheld. */
async function checkedResult(settings: MiddlewareSettings, request: ToolCallRequestLike, result: ToolResult, context: Record<string, unknown>, refusal: (request: ToolCallRequestLike, text: string) => ToolResult): Promise<unknown> {
  const name = request.toolCall.name;
  const isMessage = result !== null && typeof result === 'object' && 'content' in result && 'tool_call_id' in result;
  // A Command (a tool that updates the agent's state) is decided as its JSON; it can be let through or withheld, not rewritten.
  let text: string;
  try {
    text = isMessage ? textOf(result.content) : (JSON.stringify(result) ?? '');
  } catch {
    return refusal(request, `agentguard withheld the result of ${name}: it cannot be read as text or JSON, so it could not be checked`);
  }
  const decision = await settings.guard.decide({ kind: 'tool_output', name, input: { content: [text] }, context });
  if (decision.effect === 'allow') return result;
  const content = decision.action.input?.content;
  const rewritten = Array.isArray(content) && content.length === 1 && typeof content[0] === 'string' ? content[0] : undefined;
  if (decision.effect === 'transform' && isMessage && rewritten !== undefined) {
    setContent(result, replaceText(result.content, rewritten));
    return result;
  }
  return refusal(request, `agentguard withheld the result of ${name}: ${reasonsOf(decision)} (decision ${decision.id})`);
}

async function outcomeQuietly(settings: MiddlewareSettings, decision: Decision, outcome: { status: 'ok' | 'error'; durationMs: number; error?: string }): Promise<void> {
  try {
    await settings.guard.recordOutcome(decision, outcome);
  } catch (error) {
    process.emitWarning(`agentguard: could not record the outcome of ${decision.id}: ${(error as Error).message}`, { code: 'AGENTGUARD_AUDIT' });
  }
}
