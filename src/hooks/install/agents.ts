/**
 * Where each coding agent keeps its hook configuration and how an entry is laid out in it, as each agent's own hook
 * reference describes it (the versions followed are named in docs/coding-agents/install.md). One command line serves
 * every event of an agent: the hook runtime reads the event from the payload.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isPlainObject } from '../../core/plain-object.js';
import type { CodingAgentId } from '../agent-ids.js';

export type HookScope = 'user' | 'project';

/**
 * - `groups`: `hooks.<Event>: [{ matcher?, hooks: [{ type: "command", command }] }]` (Claude Code, Gemini CLI, Codex);
 * - `flat`: `hooks.<event>: [{ command }]` (Cursor, Windsurf) or `[{ type: "command", bash, powershell }]` (Copilot CLI).
 */
export type HookLayout = 'groups' | 'flat';

export interface HookEnvironment {
  home: string;
  /** The project folder of project-scope files. */
  project: string;
  /** `$CODEX_HOME`, `$COPILOT_HOME` when set (the agents move their user folder there). */
  codexHome?: string;
  copilotHome?: string;
}

export interface AgentHookSpec {
  agent: CodingAgentId;
  layout: HookLayout;
  /** Events before a tool runs (decide) and after it ran (check the result). */
  events: { pre: readonly string[]; post: readonly string[] };
  /** `groups`: the matcher that selects every tool; undefined writes no matcher (which also selects every tool). */
  matcher?: string;
  /** The handler object written for a command line. */
  handler: (command: string) => Record<string, unknown>;
  /** Keys of a handler that hold the command line (the first one is what status reads). */
  commandKeys: readonly string[];
  /** Top-level keys a new file gets (Cursor and Copilot CLI require `"version": 1`). */
  newFile?: Record<string, unknown>;
  /** Comments and trailing commas allowed (the agent reads the file as JSONC). */
  jsonc: boolean;
  /** The hook file of a scope. */
  path: (scope: HookScope, env: HookEnvironment) => string;
  /** The agent's own user folder: present means the agent was set up on this machine. */
  userDir: (env: HookEnvironment) => string;
  /** The setting that turns every hook of the agent off, when it is set in the hook file (or the agent's config). */
  hooksOff?: (doc: Record<string, unknown> | undefined, scope: HookScope, env: HookEnvironment) => Promise<string | undefined>;
}

/** Codex: `[features] hooks = false` (or the older `codex_hooks = false`) in config.toml beside hooks.json. */
async function codexHooksOff(scope: HookScope, env: HookEnvironment): Promise<string | undefined> {
  const path = scope === 'user' ? join(env.codexHome ?? join(env.home, '.codex'), 'config.toml') : join(env.project, '.codex', 'config.toml');
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
  const { parse } = await import('smol-toml');
  let features: unknown;
  try {
    features = parse(text).features;
  } catch (error) {
    return `${path} cannot be read (${(error as Error).message.split('\n')[0]}), so whether it turns hooks off is not known`;
  }
  if (!isPlainObject(features)) return undefined;
  if (features.hooks === false) return `${path} turns hooks off ([features] hooks = false)`;
  if (features.codex_hooks === false) return `${path} turns hooks off ([features] codex_hooks = false)`;
  return undefined;
}

const command = (line: string) => ({ type: 'command', command: line });

/** The hook file agentguard owns in a folder the agent reads every `*.json` of. */
export const COPILOT_HOOK_FILE = 'agentguard.json';

export const AGENT_HOOK_SPECS: Readonly<Record<CodingAgentId, AgentHookSpec>> = {
  'claude-code': {
    agent: 'claude-code',
    layout: 'groups',
    events: { pre: ['PreToolUse'], post: ['PostToolUse'] },
    matcher: '*',
    handler: command,
    commandKeys: ['command'],
    jsonc: false,
    path: (scope, env) => (scope === 'user' ? join(env.home, '.claude', 'settings.json') : join(env.project, '.claude', 'settings.json')),
    userDir: (env) => join(env.home, '.claude'),
    hooksOff: async (doc) => (doc?.disableAllHooks === true ? '"disableAllHooks": true turns every hook off' : undefined),
  },
  'gemini-cli': {
    agent: 'gemini-cli',
    layout: 'groups',
    events: { pre: ['BeforeTool'], post: ['AfterTool'] },
    matcher: '*',
    handler: (line) => ({ name: 'agentguard', type: 'command', command: line }),
    commandKeys: ['command'],
    jsonc: true,
    path: (scope, env) => (scope === 'user' ? join(env.home, '.gemini', 'settings.json') : join(env.project, '.gemini', 'settings.json')),
    userDir: (env) => join(env.home, '.gemini'),
    hooksOff: async (doc) => (isPlainObject(doc?.hooksConfig) && doc.hooksConfig.enabled === false ? '"hooksConfig": { "enabled": false } turns every hook off' : undefined),
  },
  codex: {
    agent: 'codex',
    layout: 'groups',
    events: { pre: ['PreToolUse'], post: ['PostToolUse'] },
    handler: command,
    commandKeys: ['command'],
    jsonc: false,
    path: (scope, env) => (scope === 'user' ? join(env.codexHome ?? join(env.home, '.codex'), 'hooks.json') : join(env.project, '.codex', 'hooks.json')),
    userDir: (env) => env.codexHome ?? join(env.home, '.codex'),
    hooksOff: (_doc, scope, env) => codexHooksOff(scope, env),
  },
  cursor: {
    agent: 'cursor',
    layout: 'flat',
    events: { pre: ['beforeShellExecution', 'beforeMCPExecution', 'beforeReadFile'], post: ['afterShellExecution', 'afterMCPExecution'] },
    handler: (line) => ({ command: line }),
    commandKeys: ['command'],
    newFile: { version: 1 },
    jsonc: false,
    path: (scope, env) => (scope === 'user' ? join(env.home, '.cursor', 'hooks.json') : join(env.project, '.cursor', 'hooks.json')),
    userDir: (env) => join(env.home, '.cursor'),
  },
  windsurf: {
    agent: 'windsurf',
    layout: 'flat',
    events: {
      pre: ['pre_run_command', 'pre_read_code', 'pre_write_code', 'pre_mcp_tool_use'],
      post: ['post_run_command', 'post_read_code', 'post_mcp_tool_use'],
    },
    handler: (line) => ({ command: line }),
    commandKeys: ['command'],
    jsonc: false,
    path: (scope, env) => (scope === 'user' ? join(env.home, '.codeium', 'windsurf', 'hooks.json') : join(env.project, '.windsurf', 'hooks.json')),
    userDir: (env) => join(env.home, '.codeium', 'windsurf'),
  },
  'copilot-cli': {
    agent: 'copilot-cli',
    layout: 'flat',
    events: { pre: ['preToolUse'], post: ['postToolUse'] },
    handler: (line) => ({ type: 'command', bash: line, powershell: line }),
    commandKeys: ['bash', 'powershell'],
    newFile: { version: 1 },
    jsonc: false,
    path: (scope, env) =>
      scope === 'user' ? join(env.copilotHome ?? join(env.home, '.copilot'), 'hooks', COPILOT_HOOK_FILE) : join(env.project, '.github', 'hooks', COPILOT_HOOK_FILE),
    userDir: (env) => env.copilotHome ?? join(env.home, '.copilot'),
  },
};

/** Every event an agent's hooks are installed for, pre-tool first. */
export const eventsOf = (spec: AgentHookSpec): string[] => [...spec.events.pre, ...spec.events.post];
