import type { Action } from '../../core/action.js';
import { objectOf, requireText, text, textsOf } from '../payload.js';
import { answer, HookPayloadError, json, type AgentAdapter, type ParsedHook, type PreToolHook } from '../types.js';
import { contextOf, fileAction, FETCH, FILE, mcpCall, otherCall, postHook, SEARCH, SHELL, specCall, splitMcpName, type HookSite, type ToolSpec } from '../vocabulary.js';

/**
 * Gemini CLI hooks (docs/hooks/reference.md of google-gemini/gemini-cli): `BeforeTool` and `AfterTool` with
 * `session_id`, `cwd`, `tool_name`, `tool_input` (`tool_response` after). Answers on stdout, JSON only: `decision:
 * "deny"` with `reason` (sent to the model as the tool's error); `hookSpecificOutput.tool_input` merges into the
 * arguments; after the call `decision: "deny"` replaces the result with `reason`, `hookSpecificOutput.tool_output`
 * replaces it with a text. Exit code 2 blocks with stderr as the reason. There is no "ask".
 */
const TOOLS: Record<string, ToolSpec> = {
  run_shell_command: { ...SHELL(), fields: { command: 'command', cwd: 'directory' }, paths: ['cwd'] },
  read_file: FILE('file.read', 'absolute_path'),
  write_file: FILE('file.write', 'file_path', { content: 'content' }),
  replace: FILE('file.edit', 'file_path', { old_string: 'old_string', new_string: 'new_string' }),
  list_directory: FILE('file.list', 'path'),
  glob: FILE('file.list', 'path', { pattern: 'pattern' }),
  search_file_content: { ...FILE('file.read', 'path', { pattern: 'pattern' }), required: [] },
  google_web_search: SEARCH(),
};

const URL_IN_TEXT = /\bhttps?:\/\/[^\s<>"'`]+/gi;

function calls(tool: string, input: Record<string, unknown>, site: HookSite): Array<{ action: Action; rewrite?: (d: Action) => Record<string, unknown> | string }> {
  if (tool === 'read_file' && input.absolute_path === undefined && typeof input.file_path === 'string') return [specCall(FILE('file.read', 'file_path'), input, site)];
  const spec = TOOLS[tool];
  if (spec) return [specCall(spec, input, site)];
  if (tool === 'web_fetch') {
    // web_fetch takes a prompt naming up to 20 URLs: each is decided as its own web.fetch.
    const prompt = text(input.prompt) ?? text(input.url);
    if (prompt === undefined) throw new HookPayloadError('the web_fetch call has no prompt');
    const urls = [...new Set(prompt.match(URL_IN_TEXT) ?? [])].map((url) => url.replace(/[.,;:!?)\]]+$/, ''));
    if (urls.length === 0) throw new HookPayloadError('the web_fetch prompt names no http(s) URL');
    if (urls.length === 1 && input.url !== undefined) return [specCall(FETCH(), input, site)];
    return urls.map((url) => ({ action: { kind: 'http', name: 'web.fetch', input: { url, prompt }, context: contextOf(site) } }));
  }
  if (tool === 'read_many_files') {
    const paths = Array.isArray(input.paths) ? input.paths.filter((p): p is string => typeof p === 'string' && p !== '') : [];
    if (paths.length === 0) throw new HookPayloadError('the read_many_files call has no paths');
    return paths.map((p) => ({ action: fileAction('file.read', p, site) }));
  }
  const mcp = splitMcpName(tool);
  if (mcp) return [mcpCall(mcp[0], mcp[1], input, site)];
  return [otherCall(tool, input, site)];
}

/** Gemini merges hookSpecificOutput.tool_input into the arguments, so a rewrite cannot remove one. */
function mergeable(rewrite: (d: Action) => Record<string, unknown> | string, original: Record<string, unknown>) {
  return (decided: Action): Record<string, unknown> | string => {
    const next = rewrite(decided);
    if (typeof next === 'string') return next;
    const removed = Object.keys(original).filter((key) => !(key in next));
    return removed.length > 0 ? `Gemini CLI merges rewritten arguments into the call, so the policy cannot remove ${removed.join(', ')}` : next;
  };
}

function parse(payload: Record<string, unknown>): ParsedHook {
  const event = requireText(payload, 'hook_event_name', 'the payload');
  if (event !== 'BeforeTool' && event !== 'AfterTool') return { phase: 'other', event };
  const tool = requireText(payload, 'tool_name', 'the payload');
  const input = objectOf(payload.tool_input, 'tool_input');
  const site: HookSite = { agent: 'gemini-cli', session: text(payload.session_id), cwd: text(payload.cwd) ?? process.cwd(), event, tool };
  if (event === 'BeforeTool') {
    const mapped = calls(tool, input, site);
    const pre: PreToolHook = { phase: 'pre', event, tool, actions: mapped.map((c) => c.action) };
    if (mapped.length === 1 && mapped[0]!.rewrite) pre.rewrite = mergeable(mapped[0]!.rewrite, input);
    return pre;
  }
  let call: Action;
  try {
    call = calls(tool, input, site)[0]!.action;
  } catch (error) {
    if (!(error instanceof HookPayloadError)) throw error;
    call = otherCall(tool, input, site).action;
  }
  const response = payload.tool_response;
  const llm = response !== null && typeof response === 'object' && 'llmContent' in response ? (response as { llmContent: unknown }).llmContent : response;
  return postHook(site, call, textsOf(llm));
}

export const geminiCli: AgentAdapter = {
  id: 'gemini-cli',
  parse,
  canAsk: () => false,
  answerPre(verdict) {
    switch (verdict.kind) {
      case 'allow':
        return answer(json({}));
      case 'deny':
      case 'ask':
        return answer(json({ decision: 'deny', reason: verdict.reason }));
      case 'rewrite':
        return answer(json({ systemMessage: verdict.reason, hookSpecificOutput: { tool_input: verdict.toolInput } }));
    }
  },
  answerPost(verdict) {
    if (verdict.kind === 'pass') return answer(json({}));
    if (verdict.kind === 'replace') return answer(json({ systemMessage: verdict.reason, hookSpecificOutput: { tool_output: verdict.text } }));
    return answer(json({ decision: 'deny', reason: verdict.reason }));
  },
  answerNeutral: () => answer(json({})),
  // Exit code 2 blocks the call (or hides the result) with stderr as the reason, whatever the event.
  answerFailure: (message) => answer('', 2, `${message}\n`),
};
