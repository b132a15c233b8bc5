import type { Action } from '../../core/action.js';
import { isPlainObject } from '../../core/plain-object.js';
import { objectOf, requireText, text, textsOf } from '../payload.js';
import { answer, HookPayloadError, json, type AgentAdapter, type ParsedHook, type PreToolHook } from '../types.js';
import { FETCH, FILE, otherCall, postHook, SHELL, specCall, type HookSite, type ToolSpec } from '../vocabulary.js';

/**
 * GitHub Copilot CLI hooks (docs.github.com, "GitHub Copilot CLI hooks reference"): `preToolUse` and `postToolUse`
 * with `sessionId`, `cwd`, `toolName`, `toolArgs` (a JSON string in older releases), `toolResult` after the call; the
 * PascalCase events (`PreToolUse`) send the same in snake_case with `hook_event_name`. preToolUse answers with
 * `permissionDecision` (allow | deny | ask), `permissionDecisionReason` and `modifiedArgs`. A hook that fails or exits
 * non-zero is skipped, not treated as a deny, so every failure is answered with a JSON deny and exit code 0.
 * postToolUse output is ignored for command hooks: results are checked (and taint the session), not withheld.
 */
const TOOLS: Record<string, ToolSpec> = {
  bash: SHELL(),
  powershell: SHELL(),
  view: FILE('file.read', 'path'),
  create: FILE('file.write', 'path', { content: 'file_text' }),
  edit: FILE('file.edit', 'path', { old_string: 'old_str', new_string: 'new_str' }),
  glob: FILE('file.list', 'path', { pattern: 'pattern' }),
  grep: { ...FILE('file.read', 'path', { pattern: 'pattern' }), required: [] },
  web_fetch: FETCH(),
};

function call(tool: string, input: Record<string, unknown>, site: HookSite) {
  const spec = TOOLS[tool];
  return spec ? specCall(spec, input, site) : otherCall(tool, input, site);
}

function parse(payload: Record<string, unknown>): ParsedHook {
  const snake = typeof payload.hook_event_name === 'string';
  const event = snake ? requireText(payload, 'hook_event_name', 'the payload') : 'toolResult' in payload ? 'postToolUse' : 'error' in payload ? 'postToolUseFailure' : 'toolName' in payload ? 'preToolUse' : 'other';
  const phase = /^pretooluse$/i.test(event) ? 'pre' : /^posttooluse$/i.test(event) ? 'post' : 'other';
  if (phase === 'other') return { phase, event };
  const tool = requireText(payload, snake ? 'tool_name' : 'toolName', 'the payload');
  const input = objectOf(payload[snake ? 'tool_input' : 'toolArgs'], snake ? 'tool_input' : 'toolArgs', { optional: true });
  const site: HookSite = { agent: 'copilot-cli', session: text(payload[snake ? 'session_id' : 'sessionId']), cwd: text(payload.cwd) ?? process.cwd(), event, tool };
  if (phase === 'pre') {
    const mapped = call(tool, input, site);
    const pre: PreToolHook = { phase: 'pre', event, tool, actions: [mapped.action], rewrite: mapped.rewrite };
    return pre;
  }
  let action: Action;
  try {
    action = call(tool, input, site).action;
  } catch (error) {
    if (!(error instanceof HookPayloadError)) throw error;
    action = otherCall(tool, input, site).action;
  }
  const result = payload[snake ? 'tool_result' : 'toolResult'];
  const texts = isPlainObject(result) ? textsOf(result[snake ? 'text_result_for_llm' : 'textResultForLlm']) : textsOf(result);
  return postHook(site, action, texts);
}

const deny = (reason: string) => answer(json({ permissionDecision: 'deny', permissionDecisionReason: reason }));

export const copilotCli: AgentAdapter = {
  id: 'copilot-cli',
  parse,
  canAsk: () => true,
  answerPre(verdict) {
    switch (verdict.kind) {
      case 'allow':
        return answer('');
      case 'deny':
        return deny(verdict.reason);
      case 'ask':
        return answer(json({ permissionDecision: 'ask', permissionDecisionReason: verdict.reason }));
      case 'rewrite':
        return answer(json({ modifiedArgs: verdict.toolInput, permissionDecisionReason: verdict.reason }));
    }
  },
  answerPost(verdict) {
    if (verdict.kind === 'pass') return answer('');
    return answer('', 0, `agentguard: ${verdict.reason} (Copilot CLI cannot withhold a result from a command hook; the session is marked)\n`);
  },
  answerNeutral: () => answer(''),
  answerFailure: (message) => ({ ...deny(message), stderr: `${message}\n` }),
};
