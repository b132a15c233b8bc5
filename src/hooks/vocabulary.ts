import { homedir } from 'node:os';
import path from 'node:path';
import type { Action } from '../core/action.js';
import { agentActionPrefix, type CodingAgentId } from './agent-ids.js';
import { HookPayloadError, type PostToolHook, type PreToolHook } from './types.js';

/**
 * The common vocabulary every agent's tools map onto, so one policy covers them all:
 *   shell.exec  (kind shell)  input.command, input.cwd
 *   file.read | file.list | file.write | file.edit | file.delete  (kind file)  input.path, absolute
 *   web.fetch   (kind http)   input.url;   web.search (kind http) input.query
 *   mcp.<server>.<tool>  (kind mcp)  input: the tool's arguments
 *   <agent prefix>.<tool> (kind tool) for anything else, input as the agent sent it
 * context: { agent, session: { id }, cwd, hook: { event, tool } }, and for file actions context.file: { relative (the
 * path from cwd), outsideCwd }. Results are `tool_output` (`mcp_output` for MCP tools) under the same name, with
 * input.content the result's texts.
 */

/** Where a hook call happened: which agent, its session, its working folder, the event and tool as the agent names them. */
export interface HookSite {
  agent: CodingAgentId;
  session: string | undefined;
  cwd: string;
  event: string;
  tool: string;
}

export function contextOf(site: HookSite): Record<string, unknown> {
  return {
    agent: site.agent,
    ...(site.session !== undefined ? { session: { id: site.session } } : {}),
    cwd: site.cwd,
    hook: { event: site.event, tool: site.tool },
  };
}

/** An absolute path: `~` is the home folder, a relative path is resolved against the payload's working folder. */
export function absolutePath(value: string, cwd: string): string {
  if (value === '~' || value.startsWith('~/')) return path.join(homedir(), value.slice(1));
  return path.resolve(cwd, value);
}

/** Where a file action's path lies from the agent's working folder (symbolic links are not followed). */
export function fileContext(site: HookSite, file: string): Record<string, unknown> {
  const relative = path.relative(site.cwd, file);
  const outsideCwd = relative === '..' || relative.startsWith(`..${path.sep}`) || path.isAbsolute(relative);
  return { ...contextOf(site), file: { relative: relative === '' ? '.' : relative, outsideCwd } };
}

/** A file action built directly (a patch's targets, a list of paths). */
export function fileAction(name: string, file: string, site: HookSite, extra: Record<string, unknown> = {}): Action {
  const absolute = absolutePath(file, site.cwd);
  return { kind: 'file', name, input: { path: absolute, ...extra }, context: fileContext(site, absolute) };
}

/** How one agent tool maps onto a vocabulary action: which of its fields become which input fields. */
export interface ToolSpec {
  name: string;
  kind: string;
  /** Action input field → the tool's field. */
  fields: Record<string, string>;
  /** Action input fields holding a path (made absolute). */
  paths?: readonly string[];
  /** Action input fields that must be non-empty strings. */
  required?: readonly string[];
  /** Add input.cwd from the payload when the tool names no folder of its own. */
  cwd?: boolean;
}

export const SHELL = (command = 'command'): ToolSpec => ({ name: 'shell.exec', kind: 'shell', fields: { command }, required: ['command'], cwd: true });
export const FILE = (name: 'file.read' | 'file.list' | 'file.write' | 'file.edit' | 'file.delete', pathField: string, more: Record<string, string> = {}): ToolSpec => ({
  name,
  kind: 'file',
  fields: { path: pathField, ...more },
  paths: ['path'],
  required: name === 'file.list' ? [] : ['path'],
});
export const FETCH = (url = 'url'): ToolSpec => ({ name: 'web.fetch', kind: 'http', fields: { url }, required: ['url'] });
export const SEARCH = (query = 'query'): ToolSpec => ({ name: 'web.search', kind: 'http', fields: { query }, required: ['query'] });

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** The action of one tool call by its spec, and the rewrite of a transformed one back into the tool's input. */
export function specCall(spec: ToolSpec, raw: Record<string, unknown>, site: HookSite): { action: Action; rewrite: (decided: Action) => Record<string, unknown> | string } {
  const input: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(spec.fields)) {
    let value = raw[field];
    if (value === undefined) continue;
    if (spec.paths?.includes(key) && typeof value === 'string' && value !== '') value = absolutePath(value, site.cwd);
    input[key] = value;
  }
  for (const key of spec.required ?? []) {
    if (typeof input[key] !== 'string' || input[key] === '') {
      throw new HookPayloadError(`the ${site.tool} call has no ${spec.fields[key]} (a non-empty string is needed)`);
    }
  }
  if (spec.kind === 'file' && input.path === undefined) input.path = site.cwd;
  const derivedCwd = spec.cwd && input.cwd === undefined;
  if (derivedCwd) input.cwd = site.cwd;
  const context = spec.kind === 'file' && typeof input.path === 'string' ? fileContext(site, input.path) : contextOf(site);
  const action: Action = { kind: spec.kind, name: spec.name, input, context };
  const rewrite = (decided: Action): Record<string, unknown> | string => {
    const next = decided.input ?? {};
    const out: Record<string, unknown> = { ...raw };
    for (const [key, value] of Object.entries(next)) {
      if (same(value, input[key])) continue;
      if (key === 'cwd' && derivedCwd) return `the ${site.tool} tool cannot be told to run in another folder`;
      out[spec.fields[key] ?? key] = value;
    }
    for (const key of Object.keys(input)) {
      if (key in next || (key === 'cwd' && derivedCwd)) continue;
      delete out[spec.fields[key] ?? key];
    }
    return out;
  };
  return { action, rewrite };
}

/** `mcp.<server>.<tool>` with the tool's arguments as input; a rewrite is the arguments as decided. */
export function mcpCall(server: string, tool: string, args: Record<string, unknown>, site: HookSite, extra: Record<string, unknown> = {}): { action: Action; rewrite: (decided: Action) => Record<string, unknown> } {
  const action: Action = { kind: 'mcp', name: `mcp.${server}.${tool}`, input: args, context: { ...contextOf(site), mcp: { server, tool, ...extra } } };
  return { action, rewrite: (decided) => decided.input ?? {} };
}

/** A tool of no common kind keeps its own name under the agent's prefix (`claude.Task`, `gemini.save_memory`). */
export function otherCall(tool: string, args: Record<string, unknown>, site: HookSite): { action: Action; rewrite: (decided: Action) => Record<string, unknown> } {
  const action: Action = { kind: 'tool', name: `${agentActionPrefix(site.agent)}.${tool}`, input: args, context: contextOf(site) };
  return { action, rewrite: (decided) => decided.input ?? {} };
}

/** `mcp__<server>__<tool>` (Claude Code, Codex, Gemini CLI) → [server, tool]. */
export function splitMcpName(name: string): [string, string] | undefined {
  const match = /^mcp__(.+?)__(.+)$/.exec(name);
  return match ? [match[1]!, match[2]!] : undefined;
}

export function preHook(site: HookSite, call: { action: Action; rewrite?: (decided: Action) => Record<string, unknown> | string }, canRewrite: boolean): PreToolHook {
  return { phase: 'pre', event: site.event, tool: site.tool, actions: [call.action], ...(canRewrite && call.rewrite ? { rewrite: call.rewrite } : {}) };
}

/** The output action of a result: the call's own name, `mcp_output` for MCP tools, `tool_output` for the rest. */
export function postHook(site: HookSite, call: Action, texts: string[]): PostToolHook {
  const action: Action | undefined = texts.length === 0 ? undefined : { kind: call.kind === 'mcp' ? 'mcp_output' : 'tool_output', name: call.name, input: { content: texts }, context: call.context ?? contextOf(site) };
  return { phase: 'post', event: site.event, tool: site.tool, action };
}
