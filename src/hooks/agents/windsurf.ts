import { isPlainObject } from '../../core/plain-object.js';
import { objectOf, requireText, text, textsOf } from '../payload.js';
import { answer, HookPayloadError, type AgentAdapter, type ParsedHook } from '../types.js';
import { FILE, mcpCall, postHook, SHELL, specCall, type HookSite } from '../vocabulary.js';

/**
 * Windsurf Cascade hooks (docs.windsurf.com/windsurf/cascade/hooks): `agent_action_name` names the event,
 * `trajectory_id` the conversation, `tool_info` the call: `pre_run_command` (`command_line`, `cwd`), `pre_read_code`
 * (`file_path`), `pre_write_code` (`file_path`, `edits`), `pre_mcp_tool_use` (`mcp_server_name`, `mcp_tool_name`,
 * `mcp_tool_arguments`). A pre-hook blocks by exiting with code 2 (stderr is shown); there is no ask and no rewrite.
 * Post-hooks (`post_run_command`, `post_read_code`, `post_mcp_tool_use`) cannot change anything: results are checked
 * for the session's taint only.
 */
const PRE: Record<string, string> = { pre_run_command: 'run_command', pre_read_code: 'read_code', pre_write_code: 'write_code', pre_mcp_tool_use: 'mcp_tool_use' };
const POST: Record<string, string> = { post_run_command: 'run_command', post_read_code: 'read_code', post_mcp_tool_use: 'mcp_tool_use' };

function callOf(tool: string, info: Record<string, unknown>, site: HookSite) {
  switch (tool) {
    case 'run_command':
      return specCall(SHELL('command_line'), info, site);
    case 'read_code':
      return specCall(FILE('file.read', 'file_path'), info, site);
    case 'write_code':
      return specCall(FILE('file.edit', 'file_path', { edits: 'edits' }), info, site);
    default: {
      const server = requireText(info, 'mcp_server_name', 'tool_info');
      const name = requireText(info, 'mcp_tool_name', 'tool_info');
      return mcpCall(server, name, objectOf(info.mcp_tool_arguments, 'tool_info.mcp_tool_arguments', { optional: true }), site);
    }
  }
}

function parse(payload: Record<string, unknown>): ParsedHook {
  const event = requireText(payload, 'agent_action_name', 'the payload');
  const tool = PRE[event] ?? POST[event];
  if (tool === undefined) return { phase: 'other', event };
  if (!isPlainObject(payload.tool_info)) throw new HookPayloadError('tool_info must be an object');
  const info = payload.tool_info;
  const site: HookSite = { agent: 'windsurf', session: text(payload.trajectory_id), cwd: text(info.cwd) ?? process.cwd(), event, tool };
  const call = callOf(tool, info, site);
  if (PRE[event]) return { phase: 'pre', event, tool, actions: [call.action] };
  const result = tool === 'run_command' ? info.output : tool === 'read_code' ? info.content : info.mcp_result;
  return postHook(site, call.action, textsOf(result));
}

export const windsurf: AgentAdapter = {
  id: 'windsurf',
  parse,
  canAsk: () => false,
  answerPre(verdict) {
    if (verdict.kind === 'allow') return answer('');
    return answer('', 2, `${verdict.reason}\n`);
  },
  answerPost(verdict) {
    if (verdict.kind === 'pass') return answer('');
    return answer('', 0, `agentguard: ${verdict.reason} (Windsurf cannot withhold a result after the call; the session is marked)\n`);
  },
  answerNeutral: () => answer(''),
  answerFailure: (message, phase) => answer('', phase === 'post' ? 0 : 2, `${message}\n`),
};
