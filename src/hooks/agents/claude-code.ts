import { FETCH, FILE, mcpCall, otherCall, SEARCH, SHELL, specCall, splitMcpName, type HookSite, type ToolSpec } from '../vocabulary.js';
import type { AgentAdapter } from '../types.js';
import { claudeFormatAdapter } from './claude-format.js';

/**
 * Claude Code's tools (hooks reference, code.claude.com/docs/en/hooks): tool_input as the tools define it. File tools
 * send absolute paths already; relative ones are resolved against the payload's cwd anyway.
 */
const TOOLS: Record<string, ToolSpec> = {
  Bash: SHELL(),
  Read: FILE('file.read', 'file_path'),
  NotebookRead: FILE('file.read', 'notebook_path'),
  Grep: { ...FILE('file.read', 'path', { pattern: 'pattern', glob: 'glob' }), required: [] },
  Glob: FILE('file.list', 'path', { pattern: 'pattern' }),
  LS: FILE('file.list', 'path'),
  Write: FILE('file.write', 'file_path', { content: 'content' }),
  Edit: FILE('file.edit', 'file_path', { old_string: 'old_string', new_string: 'new_string' }),
  MultiEdit: FILE('file.edit', 'file_path', { edits: 'edits' }),
  NotebookEdit: FILE('file.edit', 'notebook_path', { new_source: 'new_source' }),
  WebFetch: FETCH(),
  WebSearch: SEARCH(),
};

export function claudeToolCall(tool: string, input: Record<string, unknown>, site: HookSite) {
  const spec = TOOLS[tool];
  if (spec) return specCall(spec, input, site);
  const mcp = splitMcpName(tool);
  if (mcp) return mcpCall(mcp[0], mcp[1], input, site);
  return otherCall(tool, input, site);
}

export const claudeCode: AgentAdapter = claudeFormatAdapter('claude-code', {
  ask: true,
  calls: (tool, input, site) => [claudeToolCall(tool, input, site)],
});
