import type { Decision } from '../core/action.js';
import type { McpDecider } from '../mcp/decider.js';
import { reasonText } from '../mcp/actions.js';
import type { AgentAdapter, PostToolHook, PostVerdict, PreToolHook, PreVerdict } from './types.js';

/**
 * Puts a hook's actions through the one decider (the project's engine, or the sidecar) and turns the decisions into
 * a verdict the agent can be told: every action of a call must pass; require_approval becomes the agent's own "ask"
 * where it has one, else waits up to `approvalWaitMs` for an agentguard approval; a transform becomes the agent's
 * input rewrite where it has one, else a denial that says why.
 */
export interface HookDecideOptions {
  decider: McpDecider;
  adapter: AgentAdapter;
  approvalWaitMs: number;
  /** Added to the reason when the denial came from agentguard failing rather than from the policy. */
  failureHint: string;
}

const allowed = (d: Decision): boolean => d.effect === 'allow' || d.effect === 'transform';

/** Denials agentguard made itself (no policy could decide: policy unloadable, sidecar down, engine error). */
function isFailure(decision: Decision): boolean {
  return decision.id.startsWith('dec_gateway_') || decision.reasons.some((r) => r.code === 'sidecar_unavailable' || r.code === 'decision_error' || r.code === 'policy_unavailable');
}

function denial(decision: Decision, options: HookDecideOptions): string {
  const text = `agentguard denied ${decision.action.name}: ${reasonText(decision)}`;
  return isFailure(decision) ? `${text}. ${options.failureHint}` : text;
}

export async function decidePre(hook: PreToolHook, options: HookDecideOptions): Promise<PreVerdict> {
  const { decider, adapter } = options;
  const decisions: Decision[] = [];
  for (const action of hook.actions) {
    const decision = await decider.decide(action);
    if (decision.effect === 'deny') return { kind: 'deny', reason: denial(decision, options) };
    decisions.push(decision);
  }
  const pending = decisions.filter((d) => d.effect === 'require_approval');
  if (pending.length > 0) {
    if (adapter.canAsk(hook)) {
      const ids = pending.map((d) => d.approval?.id).filter((id): id is string => id !== undefined);
      const also = ids.length > 0 ? ` (agentguard approval ${ids.join(', ')} was opened too; it expires unused when you answer here)` : '';
      return { kind: 'ask', reason: `agentguard asks for approval: ${pending.map(reasonText).join('; ')}${also}` };
    }
    for (let i = 0; i < decisions.length; i++) {
      if (decisions[i]!.effect !== 'require_approval') continue;
      const settled = await decider.settle(decisions[i]!, options.approvalWaitMs);
      if (!allowed(settled)) return { kind: 'deny', reason: denial(settled, options) };
      decisions[i] = settled;
    }
  }
  const transformed = decisions.filter((d) => d.effect === 'transform');
  if (transformed.length === 0) return { kind: 'allow' };
  const decision = transformed[0]!;
  if (decision.action.kind === 'tool_output' || decision.action.kind === 'mcp_output') {
    return { kind: 'deny', reason: `agentguard denied ${decision.action.name}: the policy changes what it would return (${reasonText(decision)}), and ${adapter.id} cannot be given a changed result before the call` };
  }
  if (hook.actions.length !== 1 || !hook.rewrite) {
    return { kind: 'deny', reason: `agentguard denied ${decision.action.name}: the policy changes this call (${reasonText(decision)}), and ${adapter.id} cannot run a changed call${hook.actions.length > 1 ? ' that touches several targets' : ''}; make the call as the policy wants it` };
  }
  const rewritten = hook.rewrite(decision.action);
  if (typeof rewritten === 'string') return { kind: 'deny', reason: `agentguard denied ${decision.action.name}: the policy changes this call (${reasonText(decision)}), but ${rewritten}` };
  return { kind: 'rewrite', toolInput: rewritten, reason: `agentguard changed this call: ${reasonText(decision)}` };
}

export async function decidePost(hook: PostToolHook, options: HookDecideOptions): Promise<PostVerdict> {
  if (!hook.action) return { kind: 'pass' };
  const decision = await options.decider.decide(hook.action);
  if (decision.effect === 'allow') return { kind: 'pass' };
  if (decision.effect === 'transform') {
    const content = (decision.action.input as { content?: unknown } | undefined)?.content;
    if (Array.isArray(content) && content.every((t) => typeof t === 'string')) {
      return { kind: 'replace', text: content.join('\n'), reason: `agentguard changed the result of ${hook.tool}: ${reasonText(decision)}` };
    }
    return { kind: 'block', reason: `agentguard withheld the result of ${hook.tool}: the policy's change left input.content not a list of texts` };
  }
  const reason = `agentguard withheld the result of ${hook.tool}: ${reasonText(decision)}`;
  return { kind: 'block', reason: isFailure(decision) ? `${reason}. ${options.failureHint}` : reason };
}
