import type { Action } from '../../core/action.js';
import { HookPayloadError, type AgentAdapter } from '../types.js';
import { fileAction, mcpCall, otherCall, SHELL, specCall, splitMcpName, type HookSite } from '../vocabulary.js';
import { claudeFormatAdapter } from './claude-format.js';

/**
 * OpenAI Codex CLI hooks (developers.openai.com/codex/hooks): the Claude Code wire format. Shell-like tools arrive as
 * `Bash` with `tool_input.command`; `apply_patch` carries the patch text in `tool_input.command`; MCP tools are
 * `mcp__<server>__<tool>`. `updatedInput` is honoured with `permissionDecision: "allow"`; "ask" is not, so
 * require_approval goes through an agentguard approval.
 */

/** The command line of a Bash-like call: a string, or an argv such as ["bash", "-lc", "…"]. */
function commandLine(value: unknown): unknown {
  if (!Array.isArray(value) || !value.every((part) => typeof part === 'string')) return value;
  const argv = value as string[];
  if (argv.length === 3 && /^(?:.*\/)?(?:ba|z|da)?sh$/.test(argv[0]!) && (argv[1] === '-lc' || argv[1] === '-c')) return argv[2];
  return argv.map((part) => (/^[\w@%+=:,./-]+$/.test(part) ? part : `'${part.replace(/'/g, `'\\''`)}'`)).join(' ');
}

/** The files a patch in Codex's apply_patch format touches, with what it does to each. */
export function patchTargets(patch: string): Array<{ name: 'file.write' | 'file.edit' | 'file.delete'; path: string }> {
  const targets: Array<{ name: 'file.write' | 'file.edit' | 'file.delete'; path: string }> = [];
  for (const line of patch.split(/\r?\n/)) {
    const match = /^\*\*\* (Add File|Update File|Delete File|Move to): (.+)$/.exec(line);
    if (!match) continue;
    const name = match[1] === 'Add File' || match[1] === 'Move to' ? 'file.write' : match[1] === 'Delete File' ? 'file.delete' : 'file.edit';
    targets.push({ name, path: match[2]!.trim() });
  }
  return targets;
}

function patchCalls(input: Record<string, unknown>, site: HookSite): Array<{ action: Action }> {
  const patch = input.command ?? input.patch ?? input.input;
  if (typeof patch !== 'string' || patch === '') throw new HookPayloadError('the apply_patch call has no patch text in tool_input.command');
  const targets = patchTargets(patch);
  if (targets.length === 0) throw new HookPayloadError('the apply_patch call names no file (no "*** Add File:", "*** Update File:" or "*** Delete File:" line)');
  return targets.map((t) => ({ action: fileAction(t.name, t.path, site, { patch }) }));
}

export const codex: AgentAdapter = claudeFormatAdapter('codex', {
  ask: false,
  calls: (tool, input, site) => {
    if (tool === 'Bash') return [specCall(SHELL(), { ...input, command: commandLine(input.command) }, site)];
    if (tool === 'apply_patch') return patchCalls(input, site);
    const mcp = splitMcpName(tool);
    if (mcp) return [mcpCall(mcp[0], mcp[1], input, site)];
    return [otherCall(tool, input, site)];
  },
});
