/**
 * Normalises each client's config shape into a list of MCP servers. Raw env and header VALUES stay in memory only
 * (risks.ts judges them); the normalised `McpServer` carries names only.
 */
import type { ConfigLocation, McpClientId } from './clients.js';
import { isPlainObject } from '../../core/plain-object.js';

export type McpTransport = 'stdio' | 'http' | 'sse' | 'unknown';

export interface McpServer {
  client: McpClientId;
  configPath: string;
  name: string;
  transport: McpTransport;
  command?: string;
  args?: string[];
  url?: string;
  envNames: string[];
  headersNames: string[];
  disabled?: boolean;
}

export interface ParsedServer {
  server: McpServer;
  /** Keys from the top of the file down to the server's entry, e.g. `['mcpServers', 'github']` (indexes for lists). */
  keyPath: Array<string | number>;
  /** Unique within the file: the server name, qualified by its scope when nested (`projects[/app].github`). */
  scopedName: string;
  /** The entry as written (for the content hash and the permission checks). */
  entry: Record<string, unknown>;
  /** Raw values, never to be copied into a finding. */
  env: Record<string, unknown>;
  headers: Record<string, unknown>;
}

export interface ShapeProblem {
  keyPath: string;
  reason: string;
}

export interface ExtractResult {
  servers: ParsedServer[];
  problems: ShapeProblem[];
}


/** `mcpServers.github`, `projects["/home/me/app"].mcpServers.x`, `["mcp.servers"].y`. */
export function formatKeyPath(keys: readonly (string | number)[]): string {
  let out = '';
  for (const key of keys) {
    if (typeof key === 'number') out += `[${key}]`;
    else if (/^[A-Za-z_$][\w$-]*$/.test(key)) out += out ? `.${key}` : key;
    else out += `[${JSON.stringify(key)}]`;
  }
  return out;
}

function mapTransport(value: string): McpTransport {
  const t = value.toLowerCase().replace(/[-_\s]/g, '');
  if (t === 'stdio') return 'stdio';
  if (t === 'sse') return 'sse';
  if (t === 'http' || t === 'streamablehttp') return 'http';
  return 'unknown';
}

function urlTransport(url: string): McpTransport {
  return /\/sse\/?(?:[?#].*)?$/.test(url) ? 'sse' : 'http';
}

const stringRecord = (v: unknown): Record<string, unknown> => (isPlainObject(v) ? v : {});

function normalise(client: McpClientId, configPath: string, name: string, raw: Record<string, unknown>) {
  // Continue's older config nests the launch facts in `transport: { type, command, args }`.
  const entry = isPlainObject(raw.transport) ? { ...raw, ...raw.transport } : raw;
  // Zed's older form: `command: { path, args, env }`.
  const cmd = isPlainObject(entry.command) ? entry.command : undefined;
  const command = typeof entry.command === 'string' ? entry.command : typeof cmd?.path === 'string' ? cmd.path : undefined;
  const argsRaw = Array.isArray(entry.args) ? entry.args : Array.isArray(cmd?.args) ? cmd.args : undefined;
  const env = stringRecord(entry.env ?? cmd?.env);
  const headers = stringRecord(entry.headers);
  const url = [entry.url, entry.serverUrl, entry.httpUrl].find((u): u is string => typeof u === 'string');

  const declared = [entry.type, entry.transportType, typeof entry.transport === 'string' ? entry.transport : undefined]
    .find((t): t is string => typeof t === 'string');
  let transport: McpTransport;
  if (declared) transport = mapTransport(declared);
  else if (client === 'gemini-cli' && (typeof entry.httpUrl === 'string' || typeof entry.url === 'string'))
    // Gemini CLI: `httpUrl` is streamable HTTP, `url` is SSE.
    transport = typeof entry.httpUrl === 'string' ? 'http' : 'sse';
  else if (command !== undefined) transport = 'stdio';
  else if (url !== undefined) transport = urlTransport(url);
  else transport = 'unknown';

  const server: McpServer = {
    client,
    configPath,
    name,
    transport,
    envNames: Object.keys(env),
    headersNames: Object.keys(headers),
  };
  if (command !== undefined) server.command = command;
  if (argsRaw) server.args = argsRaw.map((a) => (typeof a === 'string' ? a : JSON.stringify(a)));
  if (url !== undefined) server.url = url;
  if (entry.disabled === true || entry.enabled === false) server.disabled = true;
  else if (typeof entry.disabled === 'boolean' || typeof entry.enabled === 'boolean') server.disabled = false;
  return { server, env, headers };
}

/** Collects servers from one container (`mcpServers`, `servers`, …), object or (Continue) list. */
function collect(
  location: ConfigLocation,
  container: unknown,
  keys: string[],
  scope: string,
  out: ExtractResult,
  allowList = false,
): void {
  if (container === undefined || container === null) return;
  const where = formatKeyPath(keys);
  let entries: Array<[string, unknown, string | number]>;
  if (isPlainObject(container)) entries = Object.entries(container).map(([k, v]) => [k, v, k]);
  else if (allowList && Array.isArray(container))
    entries = container.map((v, i) => [isPlainObject(v) && typeof v.name === 'string' ? v.name : `#${i}`, v, i]);
  else {
    out.problems.push({ keyPath: where, reason: `unexpected shape: ${where} is not an object` });
    return;
  }
  for (const [name, value, key] of entries) {
    const keyPath = [...keys, key];
    const shown = formatKeyPath(keyPath);
    if (!isPlainObject(value)) {
      out.problems.push({ keyPath: shown, reason: `unexpected shape: ${shown} is not an object` });
      continue;
    }
    const { server, env, headers } = normalise(location.client, location.path, name, value);
    out.servers.push({ server, keyPath, scopedName: scope ? `${scope}.${name}` : name, entry: value, env, headers });
  }
}

export function extractServers(location: ConfigLocation, root: unknown): ExtractResult {
  const out: ExtractResult = { servers: [], problems: [] };
  // An empty file (or an empty YAML document) holds no servers.
  if (root === null || root === undefined) return out;
  if (!isPlainObject(root)) {
    out.problems.push({ keyPath: '', reason: 'unexpected shape: the top level is not an object' });
    return out;
  }
  switch (location.shape) {
    case 'mcpServers':
      collect(location, root.mcpServers, ['mcpServers'], '', out);
      break;
    case 'claude-code': {
      collect(location, root.mcpServers, ['mcpServers'], '', out);
      const projects = root.projects;
      if (projects === undefined) break;
      if (!isPlainObject(projects)) {
        out.problems.push({ keyPath: 'projects', reason: 'unexpected shape: projects is not an object' });
        break;
      }
      for (const [dir, project] of Object.entries(projects)) {
        if (!isPlainObject(project)) continue;
        collect(location, project.mcpServers, ['projects', dir, 'mcpServers'], `projects[${dir}]`, out);
      }
      break;
    }
    case 'vscode-mcp':
      collect(location, root.servers, ['servers'], '', out);
      break;
    case 'vscode-settings':
      collect(location, root['mcp.servers'], ['mcp.servers'], '', out);
      if (isPlainObject(root.mcp)) collect(location, root.mcp.servers, ['mcp', 'servers'], '', out);
      break;
    case 'zed':
      collect(location, root.context_servers, ['context_servers'], '', out);
      break;
    case 'continue':
      collect(location, root.mcpServers, ['mcpServers'], '', out, true);
      if (isPlainObject(root.experimental))
        collect(location, root.experimental.modelContextProtocolServers, ['experimental', 'modelContextProtocolServers'], 'experimental', out, true);
      break;
  }
  return out;
}
