import type { FunctionTool, RunContext, RunResult, Tool, ToolInputGuardrailDefinition } from '@openai/agents';

type ToolCallDetails = Parameters<FunctionTool['invoke']>[2];
import type { Decision } from '../../core/action.js';
import { AgentGuardError } from '../../core/errors.js';
import { settleApproval, type ApprovalWaitOptions } from '../../sdk/approvals.js';
import { AgentGuardDeniedError, ApprovalRequiredError } from '../../sdk/errors.js';
import type { AgentGuard } from '../../sdk/agent-guard.js';
import { parseArguments, RawArguments } from '../../sdk/llm/output.js';
import { adapterContext, type AdapterOptions } from '../shared/context.js';
import { refusalText, runAllowedTool, runnableDecision, toolAction, type ToolCall } from '../shared/tool-run.js';
import { decisionsOf, remember } from './calls.js';

export interface GuardToolsOptions extends AdapterOptions {
  /**
   * How long to wait for a person's answer to an agentguard approval when the run resumes an approved call (default:
   * one look, no wait). The SDK's interruption is the wait: see resolveApprovals.
   */
  waitForApproval?: boolean | ApprovalWaitOptions;
}

interface Settings {
  guard: AgentGuard;
  context: Record<string, unknown>;
  wait: ApprovalWaitOptions;
}

function argumentsOf(text: string): unknown {
  const parsed = parseArguments(text);
  // Not a JSON object: decided as written, so no rule on its fields can let it through by mistake.
  return parsed instanceof RawArguments ? { rawArguments: parsed.text } : parsed;
}

function callOf(settings: Settings, name: string, input: unknown, callId: string | undefined): ToolCall {
  return { name, input, context: { ...settings.context, ...(callId ? { toolCallId: callId } : {}) } };
}

/** The call's decision: the one made when the SDK first asked about it, or a new one. */
async function decisionFor(settings: Settings, call: ToolCall, callId: string | undefined): Promise<Decision> {
  const known = callId ? decisionsOf(settings.guard).get(callId) : undefined;
  // The SDK asks about one call several times (needsApproval, the guardrail, invoke): one decision serves them all.
  // A call id reused for another tool does not carry the decision over.
  if (known && known.action.name === call.name) return known;
  const decision = await settings.guard.decide(toolAction(call));
  if (callId) remember(settings.guard, callId, decision);
  return decision;
}

/**
 * The agentguard tool input guardrail: deny → the SDK's rejectContent (the model reads the policy's reason, the tool
 * never runs); require_approval, reached once the SDK's approval let the call through → the agentguard approval
 * decides (approved and spent on this call, else rejected).
 */
function inputGuardrail(settings: Settings, name: string): ToolInputGuardrailDefinition {
  return {
    type: 'tool_input',
    name: 'agentguard',
    run: async ({ toolCall }) => {
      const call = callOf(settings, name, argumentsOf(toolCall.arguments), toolCall.callId);
      let decision = await decisionFor(settings, call, toolCall.callId);
      if (decision.effect === 'require_approval' && decision.approval) {
        decision = await settleApproval(settings.guard.approvals, decision, settings.wait);
        remember(settings.guard, toolCall.callId, decision);
      }
      if (decision.effect === 'allow' || decision.effect === 'transform') return { behavior: { type: 'allow' }, outputInfo: { decisionId: decision.id } };
      decisionsOf(settings.guard).delete(toolCall.callId);
      return { behavior: { type: 'rejectContent', message: refusalText(decision) }, outputInfo: { decisionId: decision.id, effect: decision.effect } };
    },
  };
}

function guardFunctionTool(settings: Settings, original: FunctionTool<any, any, any>): FunctionTool<any, any, any> {
  const name = original.name;
  return {
    ...original,
    // require_approval becomes the SDK's interruption; the tool's own approval policy still applies.
    needsApproval: async (runContext: RunContext, input: unknown, callId?: string) => {
      const call = callOf(settings, name, input, callId);
      const decision = await decisionFor(settings, call, callId);
      if (decision.effect === 'require_approval') return true;
      return original.needsApproval(runContext, input as never, callId);
    },
    inputGuardrails: [inputGuardrail(settings, name), ...(original.inputGuardrails ?? [])],
    invoke: async (runContext: RunContext<any>, input: string, details?: ToolCallDetails) => {
      const callId = details?.toolCall?.callId;
      const call = callOf(settings, name, argumentsOf(input), callId);
      try {
        let decision: Decision;
        try {
          decision = await runnableDecision(settings.guard, await decisionFor(settings, call, callId), undefined);
        } finally {
          if (callId) decisionsOf(settings.guard).delete(callId);
        }
        return await runAllowedTool(settings.guard, decision, call, (given) => original.invoke(runContext, given === call.input ? input : JSON.stringify(given), details));
      } catch (error) {
        // A refused call or a withheld result is what the model reads, as the SDK's rejectContent gives it; the
        // tool's own failures keep the SDK's handling.
        if (error instanceof AgentGuardDeniedError || error instanceof ApprovalRequiredError) return refusalText(error.decision);
        throw error;
      }
    },
  };
}

/**
 * The tools with every function tool guarded (OpenAI Agents SDK 0.20): each call is decided as `kind: "tool"` (name
 * the tool's name, input its arguments, `context.framework: "openai-agents"`, `context.toolCallId`) before it runs.
 * Deny → the SDK's tool input guardrail rejects it: the model reads the policy's reason, the function never runs.
 * require_approval → the SDK's `needsApproval` interruption (see resolveApprovals). Transform → the function runs with
 * the transformed arguments. The result is decided as `tool_output` before the model reads it (redacted on
 * transform; an injection taints the session). Hosted, computer, shell and apply-patch tools are returned as they are.
 */
export function guardTools<T extends Tool<any>>(tools: T[], options: GuardToolsOptions): T[] {
  const context = adapterContext(options, 'openai-agents', 'guardTools');
  if (!Array.isArray(tools)) throw new AgentGuardError('GUARD_OPTIONS_INVALID', 'guardTools needs the list of tools', { actions: ['new Agent({ tools: guardTools([myTool], { guard }) })'] });
  const wait = options.waitForApproval === true ? {} : options.waitForApproval || { timeoutMs: 0 };
  const settings: Settings = { guard: options.guard, context, wait };
  return tools.map((t) => (t && (t as { type?: string }).type === 'function' ? (guardFunctionTool(settings, t as unknown as FunctionTool<any, any, any>) as unknown as T) : t));
}

export interface ResolvedApprovals {
  approved: string[];
  rejected: string[];
  /** Interruptions that are not agentguard's, or still pending when the wait ended: left for the app. */
  left: number;
}

/**
 * Answers a run's interruptions that agentguard asked for, from the agentguard approvals (granted with `agentguard
 * approvals approve <id>`, Slack or the sidecar, from any process on the same store): approved → `state.approve`,
 * denied or expired → `state.reject`. Then resume with `run(agent, result.state)`; the approval is spent when the
 * call runs, so it runs once. Waits up to `waitForApproval` for each pending one (default: one look).
 */
export async function resolveApprovals(result: Pick<RunResult<any, any>, 'interruptions' | 'state'>, options: { guard: AgentGuard; waitForApproval?: boolean | ApprovalWaitOptions }): Promise<ResolvedApprovals> {
  const wait = options.waitForApproval === true ? {} : options.waitForApproval || { timeoutMs: 0 };
  const out: ResolvedApprovals = { approved: [], rejected: [], left: 0 };
  for (const item of result.interruptions ?? []) {
    const callId = (item.rawItem as { callId?: string }).callId;
    const decision = callId ? decisionsOf(options.guard).get(callId) : undefined;
    if (!decision?.approval || decision.effect !== 'require_approval') {
      out.left++;
      continue;
    }
    const record = await options.guard.approvals.wait(decision.approval.id, wait);
    if (record.status === 'approved') {
      result.state.approve(item);
      out.approved.push(record.id);
    } else if (record.status === 'pending') {
      out.left++;
    } else {
      result.state.reject(item, { message: `agentguard approval ${record.id} was ${record.status}${record.decidedBy ? ` by ${record.decidedBy}` : ''}` });
      out.rejected.push(record.id);
    }
  }
  return out;
}
