/**
 * The coding agents set up on this machine (their program on $PATH, their own user folder, their editor extension)
 * and whether they go through agentguard: their hooks run `agentguard hook` and their MCP servers run through
 * `agentguard mcp wrap`. A hook file that cannot be read makes the agent `unknown` and is listed as not inspected.
 */
import { constants } from 'node:fs';
import { access, readdir } from 'node:fs/promises';
import { homedir } from 'node:os';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import { agentDisplayName, CODING_AGENT_IDS, type CodingAgentId } from '../hooks/agent-ids.js';
import { AGENT_HOOK_SPECS, type HookEnvironment, type HookScope } from '../hooks/install/agents.js';
import { hooksStatus, type HookStatus } from '../hooks/install/install.js';
import { displayPath } from './mcp/index.js';
import type { McpClientId } from './mcp/clients.js';
import type { ScanFinding, ScanOptions, ScanSection } from './types.js';

/** Program names each agent installs. */
const PROGRAMS: Record<CodingAgentId, readonly string[]> = {
  'claude-code': ['claude'],
  cursor: ['cursor', 'cursor-agent'],
  'gemini-cli': ['gemini'],
  'copilot-cli': ['copilot'],
  windsurf: ['windsurf'],
  codex: ['codex'],
};

/** Editor extensions that bring an agent along, by the start of their folder name (`<publisher>.<name>-<version>`). */
const EXTENSIONS: ReadonlyArray<[string, CodingAgentId]> = [
  ['anthropic.claude-code-', 'claude-code'],
  ['openai.chatgpt-', 'codex'],
  ['google.gemini-cli-vscode-ide-companion-', 'gemini-cli'],
];

/** Editors' extension folders under the home folder. */
const EXTENSION_DIRS = [['.vscode', 'extensions'], ['.vscode-server', 'extensions'], ['.cursor', 'extensions'], ['.windsurf', 'extensions']];

/** The MCP client `scan` reads for an agent; Codex (config.toml) and Copilot CLI (mcp-config.json) have none there yet. */
const MCP_CLIENT: Partial<Record<CodingAgentId, McpClientId>> = { 'claude-code': 'claude-code', cursor: 'cursor', 'gemini-cli': 'gemini-cli', windsurf: 'windsurf' };

async function exists(path: string, mode = constants.F_OK): Promise<boolean> {
  try {
    await access(path, mode);
    return true;
  } catch {
    return false;
  }
}

async function programsOn(searchPath: string | undefined, names: readonly string[], platform: NodeJS.Platform): Promise<string[]> {
  if (!searchPath) return [];
  const dirs = [...new Set(searchPath.split(delimiter).filter((d) => d !== ''))];
  const suffixes = platform === 'win32' ? ['.exe', '.cmd', '.ps1', ''] : [''];
  const found: string[] = [];
  for (const dir of dirs) for (const name of names) for (const suffix of suffixes) {
    const path = join(dir, name + suffix);
    if (await exists(path, platform === 'win32' ? constants.F_OK : constants.X_OK)) found.push(path);
  }
  return found;
}

async function extensionsIn(home: string): Promise<Array<{ agent: CodingAgentId; path: string }>> {
  const found: Array<{ agent: CodingAgentId; path: string }> = [];
  for (const rel of EXTENSION_DIRS) {
    const dir = join(home, ...rel);
    const names = await readdir(dir).catch(() => [] as string[]);
    for (const name of names) {
      const match = EXTENSIONS.find(([prefix]) => name.startsWith(prefix));
      if (match) found.push({ agent: match[1], path: join(dir, name) });
    }
  }
  return found;
}

export interface CodingAgentFacts {
  agent: CodingAgentId;
  programs: string[];
  configDir?: string;
  extensions: string[];
  hooks: HookStatus[];
  mcp?: { client: McpClientId; servers: number; wrapped: number; notWrappable: number };
}

/** Hooks cover the agent when its user file runs agentguard's hook, or the project file of every folder scanned does. */
function hooksSecured(hooks: readonly HookStatus[], projects: readonly string[]): boolean {
  const installed = (scope: HookScope, path?: string) => hooks.some((h) => h.scope === scope && h.state === 'installed' && (path === undefined || h.path === path));
  return installed('user') || (projects.length > 0 && projects.every((p) => installed('project', p)));
}

function toFinding(facts: CodingAgentFacts, options: ScanOptions, projectFiles: string[]): ScanFinding {
  const { agent, hooks } = facts;
  const unreadable = hooks.filter((h) => h.state === 'unreadable');
  const hooksOk = hooksSecured(hooks, projectFiles);
  const mcpOk = !facts.mcp || facts.mcp.wrapped === facts.mcp.servers - facts.mcp.notWrappable;
  const status = unreadable.length > 0 && !hooksOk ? 'unknown' : hooksOk && mcpOk ? 'secured' : 'unsecured';
  const shown = (path: string) => displayPath(path, options.home);
  // What decides its status first (the report shows the first few facts), then where it was found.
  const evidence: string[] = [];
  const foundAt = [
    ...facts.programs.map((p) => `program: ${p}`),
    ...(facts.configDir ? [`settings folder: ${shown(facts.configDir)}`] : []),
    ...facts.extensions.map((e) => `editor extension: ${shown(e)}`),
  ];
  const notes: string[] = [];
  const userFile = hooks.find((h) => h.scope === 'user');
  if (hooksOk) evidence.push(`hooks run agentguard: ${hooks.filter((h) => h.state === 'installed').map((h) => shown(h.path)).join(', ')}`);
  else if (unreadable.length === 0 && !hooks.some((h) => h.state === 'disabled')) notes.push(`its tool calls do not go through agentguard: no agentguard hook in ${userFile ? shown(userFile.path) : 'its hook settings'} (\`agentguard hooks install ${agent}\` or \`agentguard scan --fix\`)`);
  for (const h of hooks.filter((x) => x.state === 'partial' || x.state === 'outdated')) notes.push(`${shown(h.path)}: events without the current agentguard hook: ${h.missingEvents.join(', ')}`);
  for (const h of hooks.filter((x) => x.state === 'disabled')) notes.push(`${shown(h.path)}: agentguard's hook is installed but does not run: ${h.reason}`);
  if (facts.mcp) {
    const { servers, wrapped, notWrappable } = facts.mcp;
    if (servers > 0) evidence.push(`MCP servers through agentguard mcp wrap: ${wrapped} of ${servers}`);
    if (wrapped < servers - notWrappable) notes.push(`${servers - notWrappable - wrapped} MCP server(s) not wrapped (\`agentguard mcp install ${facts.mcp.client} --all\` or \`agentguard scan --fix\`)`);
    if (notWrappable > 0) notes.push(`${notWrappable} MCP server(s) on the old HTTP+SSE transport cannot be wrapped (the gateway speaks Streamable HTTP)`);
  }
  evidence.push(...foundAt);
  return {
    id: `coding-agent:${agent}`,
    kind: 'coding-agent',
    name: agentDisplayName(agent),
    frameworks: [],
    location: facts.configDir ?? facts.programs[0] ?? facts.extensions[0] ?? '',
    status,
    // A coding agent runs shell commands and edits files with the developer's credentials.
    risk: status === 'secured' ? 'low' : 'high',
    evidence,
    notes,
    details: {
      agent,
      programs: facts.programs,
      ...(facts.configDir ? { configDir: facts.configDir } : {}),
      extensions: facts.extensions,
      hooks: { secured: hooksOk, files: hooks.map((h) => ({ scope: h.scope, path: h.path, state: h.state })) },
      ...(facts.mcp ? { mcp: facts.mcp } : {}),
    },
  };
}

/** The home folder of the scan, with `$CODEX_HOME` / `$COPILOT_HOME` when it is your own (not a fixture home). */
export function scanHookEnvironment(options: Pick<ScanOptions, 'home'>): Omit<HookEnvironment, 'project'> {
  const own = resolve(options.home) === resolve(homedir());
  const from = (name: string) => {
    const value = process.env[name];
    return own && value && isAbsolute(value) ? value : undefined;
  };
  const codexHome = from('CODEX_HOME');
  const copilotHome = from('COPILOT_HOME');
  return { home: options.home, ...(codexHome ? { codexHome } : {}), ...(copilotHome ? { copilotHome } : {}) };
}

/** The agents found, with their hook files read and their MCP servers counted from the MCP findings of the same scan. */
export async function codingAgentFacts(options: ScanOptions, mcpFindings: readonly ScanFinding[], env: Omit<HookEnvironment, 'project'> = scanHookEnvironment(options)): Promise<CodingAgentFacts[]> {
  const extensions = await extensionsIn(options.home);
  const out: CodingAgentFacts[] = [];
  for (const agent of CODING_AGENT_IDS) {
    const spec = AGENT_HOOK_SPECS[agent];
    const userDir = spec.userDir({ ...env, project: options.home });
    const programs = await programsOn(options.searchPath, PROGRAMS[agent], options.platform);
    const configDir = (await exists(userDir)) ? userDir : undefined;
    const ext = extensions.filter((e) => e.agent === agent).map((e) => e.path);
    options.scanned?.(`${userDir} (${agentDisplayName(agent)} settings folder: ${configDir ? 'found' : 'not found'})`);
    if (programs.length === 0 && !configDir && ext.length === 0) continue;
    const hooks = [
      ...(await hooksStatus({ ...env, project: options.home }, [agent], ['user'])),
      ...(await Promise.all(options.paths.map((project) => hooksStatus({ ...env, project }, [agent], ['project'])))).flat(),
    ];
    const client = MCP_CLIENT[agent];
    const mine = client ? mcpFindings.filter((f) => f.kind === 'mcp-server' && f.details.client === client && f.details.disabled !== true) : [];
    out.push({
      agent,
      programs,
      ...(configDir ? { configDir } : {}),
      extensions: ext,
      hooks,
      ...(client ? { mcp: { client, servers: mine.length, wrapped: mine.filter((f) => f.status === 'secured').length, notWrappable: mine.filter((f) => f.status !== 'secured' && f.details.transport === 'sse').length } } : {}),
    });
  }
  return out;
}

export async function scanCodingAgents(options: ScanOptions, mcpFindings: readonly ScanFinding[]): Promise<ScanSection> {
  options.progress?.('looking for coding agents');
  const facts = await codingAgentFacts(options, mcpFindings);
  const projectFiles = (agent: CodingAgentId) => options.paths.map((project) => AGENT_HOOK_SPECS[agent].path('project', { ...scanHookEnvironment(options), project }));
  const findings = facts.map((f) => toFinding(f, options, projectFiles(f.agent)));
  const skipped = facts.flatMap((f) => f.hooks.filter((h) => h.state === 'unreadable').map((h) => ({ what: h.path, reason: `${agentDisplayName(f.agent)} hook settings not inspected: ${h.reason ?? 'unreadable'}` })));
  // Like processes: a scan narrowed to some pids (tests) declares nothing complete, so the registry marks nothing gone.
  return { findings, skipped, ...(options.pids === undefined ? { completeKinds: ['coding-agent' as const] } : {}) };
}
