import { objectOf, requireText, text, textsOf } from '../payload.js';
import { answer, HookPayloadError, json, type AgentAdapter, type ParsedHook, type PostToolHook, type PreToolHook, type PreVerdict, type PostVerdict } from '../types.js';
import { otherCall, postHook, type HookSite } from '../vocabulary.js';
import type { Action } from '../../core/action.js';
import type { CodingAgentId } from '../agent-ids.js';

/**
 * The hook wire format Claude Code defined and Codex follows: JSON on stdin with `hook_event_name`, `session_id`,
 * `cwd`, `tool_name`, `tool_input` (and `tool_response` after the call); PreToolUse answers with
 * `hookSpecificOutput.permissionDecision` (allow | deny | ask), `permissionDecisionReason` and `updatedInput`;
 * PostToolUse with `decision: "block"` and `reason`; exit code 2 blocks with stderr as the reason.
 */
export interface ClaudeFormatTools {
  /** The call(s) one tool use maps to; throws HookPayloadError when the input cannot be that tool's. */
  calls(tool: string, input: Record<string, unknown>, site: HookSite): Array<{ action: Action; rewrite?: (decided: Action) => Record<string, unknown> | string }>;
  /** Whether the agent honours `permissionDecision: "ask"`. */
  ask: boolean;
}

export function claudeFormatAdapter(id: CodingAgentId, tools: ClaudeFormatTools): AgentAdapter {
  function parse(payload: Record<string, unknown>): ParsedHook {
    const event = requireText(payload, 'hook_event_name', 'the payload');
    if (event !== 'PreToolUse' && event !== 'PostToolUse') return { phase: 'other', event };
    const tool = requireText(payload, 'tool_name', 'the payload');
    const input = objectOf(payload.tool_input, 'tool_input');
    const site: HookSite = { agent: id, session: text(payload.session_id), cwd: text(payload.cwd) ?? process.cwd(), event, tool };
    if (event === 'PreToolUse') {
      const calls = tools.calls(tool, input, site);
      const pre: PreToolHook = { phase: 'pre', event, tool, actions: calls.map((c) => c.action) };
      if (calls.length === 1 && calls[0]!.rewrite) pre.rewrite = calls[0]!.rewrite;
      return pre;
    }
    let call: Action;
    try {
      call = tools.calls(tool, input, site)[0]!.action;
    } catch (error) {
      if (!(error instanceof HookPayloadError)) throw error;
      call = otherCall(tool, input, site).action;
    }
    return postHook(site, call, textsOf(payload.tool_response));
  }

  const pre = (fields: Record<string, unknown>) => json({ hookSpecificOutput: { hookEventName: 'PreToolUse', ...fields } });

  return {
    id,
    parse,
    canAsk: () => tools.ask,
    answerPre(verdict: PreVerdict) {
      switch (verdict.kind) {
        case 'allow':
          return answer(''); // no opinion: the agent's own permission rules decide
        case 'deny':
          return answer(pre({ permissionDecision: 'deny', permissionDecisionReason: verdict.reason }));
        case 'ask':
          return answer(pre({ permissionDecision: 'ask', permissionDecisionReason: verdict.reason }));
        case 'rewrite':
          return answer(pre({ permissionDecision: 'allow', permissionDecisionReason: verdict.reason, updatedInput: verdict.toolInput }));
      }
    },
    answerPost(verdict: PostVerdict, _hook: PostToolHook) {
      if (verdict.kind === 'pass') return answer('');
      // The tool already ran and its output is in the agent's hands: `block` puts the reason before the model next.
      const reason = verdict.kind === 'replace' ? `${verdict.reason} Use only this version of the result:\n${verdict.text}` : verdict.reason;
      return answer(json({ decision: 'block', reason, hookSpecificOutput: { hookEventName: 'PostToolUse', additionalContext: reason } }));
    },
    answerNeutral: () => answer(''),
    answerFailure(message, phase) {
      if (phase === 'pre') return answer(pre({ permissionDecision: 'deny', permissionDecisionReason: message }), 0, `${message}\n`);
      // Exit code 2 blocks whatever the event, with stderr shown to the model.
      return answer('', 2, `${message}\n`);
    },
  };
}
