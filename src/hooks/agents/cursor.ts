import type { Action } from '../../core/action.js';
import { objectOf, requireText, text, textsOf } from '../payload.js';
import { answer, json, type AgentAdapter, type ParsedHook, type PreToolHook } from '../types.js';
import { contextOf, FILE, mcpCall, postHook, SHELL, specCall, type HookSite } from '../vocabulary.js';

/**
 * Cursor agent hooks (cursor.com/docs/agent/hooks, hooks.json version 1): `beforeShellExecution` (`command`, `cwd`),
 * `beforeMCPExecution` (`tool_name`, `tool_input`, and the server's `url` or `command`), `beforeReadFile`
 * (`file_path`, `content`), answered with `permission` (allow | deny | ask; beforeReadFile: allow | deny),
 * `user_message` and `agent_message`; `afterShellExecution` (`output`) and `afterMCPExecution` (`result_json`) cannot
 * change anything, so their results are checked for the session's taint only. Every payload carries
 * `conversation_id` (the session) and `workspace_roots`. Cursor has no input rewrite.
 */
const PRE = new Set(['beforeShellExecution', 'beforeMCPExecution', 'beforeReadFile']);
const POST = new Set(['afterShellExecution', 'afterMCPExecution']);

function siteOf(payload: Record<string, unknown>, event: string, tool: string): HookSite {
  const roots = Array.isArray(payload.workspace_roots) ? payload.workspace_roots.filter((r): r is string => typeof r === 'string' && r !== '') : [];
  return { agent: 'cursor', session: text(payload.conversation_id), cwd: text(payload.cwd) ?? roots[0] ?? process.cwd(), event, tool };
}

/** The MCP call: Cursor does not name the server, so it is `unknown` unless the payload says (context.mcp has url/command). */
function mcpOf(payload: Record<string, unknown>, site: HookSite) {
  const tool = requireText(payload, 'tool_name', 'the payload');
  const server = text(payload.server) ?? text(payload.server_name) ?? 'unknown';
  const where = { ...(text(payload.url) ? { url: payload.url } : {}), ...(text(payload.command) ? { command: payload.command } : {}) };
  return mcpCall(server, tool, objectOf(payload.tool_input, 'tool_input', { optional: true }), site, where);
}

function parse(payload: Record<string, unknown>): ParsedHook {
  const event = requireText(payload, 'hook_event_name', 'the payload');
  if (!PRE.has(event) && !POST.has(event)) return { phase: 'other', event };
  const mcp = event.endsWith('MCPExecution');
  const tool = mcp ? requireText(payload, 'tool_name', 'the payload') : event === 'beforeReadFile' ? 'read_file' : 'shell';
  const site = siteOf(payload, event, tool);
  if (event === 'beforeShellExecution') return { phase: 'pre', event, tool, actions: [specCall(SHELL(), payload, site).action] };
  if (event === 'beforeMCPExecution') return { phase: 'pre', event, tool, actions: [mcpOf(payload, site).action] };
  if (event === 'beforeReadFile') {
    const read = specCall(FILE('file.read', 'file_path'), payload, site).action;
    const actions: Action[] = [read];
    // Cursor hands over the file's content before the agent reads it: it is decided as the read's result too.
    const content = text(payload.content);
    if (content !== undefined) actions.push({ kind: 'tool_output', name: 'file.read', input: { content: [content] }, context: { ...contextOf(site) } });
    const pre: PreToolHook = { phase: 'pre', event, tool, actions };
    return pre;
  }
  if (event === 'afterShellExecution') {
    const call = specCall(SHELL(), payload, site).action;
    return postHook(site, call, textsOf(payload.output));
  }
  const call = mcpOf(payload, site).action;
  const result = payload.result_json;
  let parsed: unknown = result;
  if (typeof result === 'string') {
    try {
      parsed = JSON.parse(result);
    } catch {
      parsed = result;
    }
  }
  return postHook(site, call, textsOf(parsed));
}

const decision = (permission: 'allow' | 'deny' | 'ask', message?: string) =>
  answer(json({ permission, ...(message !== undefined ? { user_message: message, agent_message: message } : {}) }));

export const cursor: AgentAdapter = {
  id: 'cursor',
  parse,
  canAsk: (hook) => hook.event !== 'beforeReadFile',
  answerPre(verdict) {
    switch (verdict.kind) {
      case 'allow':
        return decision('allow');
      case 'ask':
        return decision('ask', verdict.reason);
      case 'deny':
        return decision('deny', verdict.reason);
      case 'rewrite':
        // Never reached: Cursor offers no rewrite, so transforms are turned into denials before answering.
        return decision('deny', verdict.reason);
    }
  },
  answerPost(verdict) {
    if (verdict.kind === 'pass') return answer(json({}));
    return answer(json({}), 0, `agentguard: ${verdict.reason} (Cursor cannot withhold a result after the call; the session is marked)\n`);
  },
  answerNeutral: () => answer(json({})),
  answerFailure: (message, phase) => (phase === 'post' ? answer(json({}), 0, `${message}\n`) : { ...decision('deny', message), stderr: `${message}\n` }),
};
