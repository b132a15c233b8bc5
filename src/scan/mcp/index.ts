/**
 * `scanMcpConfigs`: every MCP server configured in the MCP clients on this machine (and in the project folders),
 * with risk notes, read entirely offline. Unreadable, malformed and oddly shaped configs are reported as skipped.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { relative, isAbsolute, sep } from 'node:path';
import { maskText } from '../../core/agents/report-mask.js';
import { canonicalJson } from '../../core/canonical-json.js';
import { isPlainObject } from '../../core/plain-object.js';
import type { ScanFinding, ScanOptions, ScanSection, Skipped } from '../types.js';
import { readdir } from 'node:fs/promises';
import { CLIENT_LABELS, folderConfigFiles, mcpConfigPlaces, type ConfigFolder, type ConfigLocation, type McpClientId } from './clients.js';
import { extractServers, formatKeyPath, type ParsedServer } from './parse.js';
import { readConfig, readText, type ReadText } from './read.js';
import { assessRisks } from './risks.js';
import { maskArgs, sanitizeUrl } from './secrets.js';
import { unwrapLaunch } from '../../mcp/install/wrapped.js';
import { UPSTREAM_HEADERS_ENV } from '../../mcp/upstream-env.js';

export interface McpClientFound {
  client: McpClientId;
  label: string;
  /** The config files of this client that exist (read or not). */
  configs: string[];
}

export interface McpScanSection extends ScanSection {
  /** Clients with at least one config file present (an info count for the report). */
  clients: McpClientFound[];
}

export interface McpScanDeps {
  /** Injected in tests to simulate unreadable files. */
  readFile?: ReadText;
}

/** The config files in a config folder; a folder that is missing holds none, one that cannot be listed is skipped. */
async function expandFolder(folder: ConfigFolder, skipped: Skipped[]): Promise<ConfigLocation[]> {
  try {
    return folderConfigFiles(folder, await readdir(folder.dir));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && code !== 'ENOTDIR') skipped.push({ what: folder.dir, reason: code === 'EACCES' || code === 'EPERM' ? 'permission denied' : `unreadable: ${code ?? String(error)}` });
    return [];
  }
}

/** `~/.cursor/mcp.json` for files under the home folder, the absolute path otherwise. */
export function displayPath(path: string, home: string): string {
  const rel = relative(home, path);
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) return path;
  return `~/${rel.split(sep).join('/')}`;
}

/** Used when the caller gives no key: hashes then compare within this process only (enough for --watch). */
let processKey: Buffer | undefined;

/**
 * A keyed hash of a config entry, to tell when it changed. Keyed (HMAC-SHA-256) because the entry holds secrets: a
 * plain hash of `{ env: { PGPASSWORD: "summer2024" } }` is found again by hashing guesses.
 */
export function entryHash(entry: unknown, key: Uint8Array | undefined): string {
  processKey ??= randomBytes(32);
  return `hmac-sha256:${createHmac('sha256', key ?? processKey).update(canonicalJson(entry)).digest('hex')}`;
}

/**
 * A server launched as `agentguard mcp wrap … -- <command> <args…>` (however agentguard is started) is secured by
 * the gateway; it is reported, and judged for risks, by the command it wraps.
 */
function unwrapped(parsed: ParsedServer): { parsed: ParsedServer; gateway?: { name?: string; project?: string; policy?: string } } {
  const real = parsed.server.transport === 'stdio' ? unwrapLaunch(parsed.server.command, parsed.server.args) : undefined;
  if (!real) return { parsed };
  const gateway = {
    ...(real.name !== undefined ? { name: real.name } : {}),
    ...(real.project !== undefined ? { project: maskText(real.project) } : {}),
    ...(real.policy !== undefined ? { policy: maskText(real.policy) } : {}),
  };
  if (real.upstream === undefined) return { parsed: { ...parsed, server: { ...parsed.server, command: real.command, args: real.args } }, gateway };
  // A Streamable HTTP server behind `mcp wrap --upstream`: reported by its URL, its headers read back from the env
  // variable install moved them into (so their values are judged as headers, as before the install).
  const { command: _command, args: _args, ...server } = parsed.server;
  const { [UPSTREAM_HEADERS_ENV]: moved, ...env } = parsed.env;
  let headers: Record<string, unknown> = {};
  try {
    const value: unknown = typeof moved === 'string' ? JSON.parse(moved) : undefined;
    if (isPlainObject(value)) headers = value;
  } catch {
    headers = {};
  }
  return {
    parsed: { ...parsed, env, headers, server: { ...server, transport: 'http', url: real.upstream, envNames: Object.keys(env), headersNames: Object.keys(headers) } },
    gateway,
  };
}

function toFinding(location: ConfigLocation, configured: ParsedServer, options: ScanOptions): ScanFinding {
  const { home } = options;
  const { parsed, gateway } = unwrapped(configured);
  const { server } = parsed;
  const risks = assessRisks(parsed, home);
  const details: Record<string, unknown> = {
    client: server.client,
    clientName: CLIENT_LABELS[server.client],
    scope: location.scope,
    configPath: server.configPath,
    keyPath: formatKeyPath(parsed.keyPath),
    transport: server.transport,
    envNames: server.envNames,
    headersNames: server.headersNames,
    contentHash: entryHash(parsed.entry, options.contentKey),
    risks: risks.map(({ code, level }) => ({ code, level })),
  };
  if (server.command !== undefined) details.command = maskText(server.command);
  if (server.args !== undefined) details.args = maskArgs(server.args).args;
  if (server.url !== undefined) details.url = sanitizeUrl(server.url).url;
  if (server.disabled !== undefined) details.disabled = server.disabled;
  if (gateway) details.gateway = { kind: 'agentguard mcp wrap', ...gateway };

  const evidence = [`${displayPath(server.configPath, home)}: ${formatKeyPath(parsed.keyPath)}`];
  if (server.disabled) evidence.push('disabled in the config');
  if (gateway) evidence.push('secured: runs through agentguard mcp wrap');
  return {
    id: `mcp:${server.client}:${server.configPath}#${parsed.scopedName}`,
    kind: 'mcp-server',
    name: `${server.name} (${CLIENT_LABELS[server.client]})`,
    frameworks: [],
    location: server.configPath,
    // Only a server run through the gateway is known to be covered; any other may still be guarded elsewhere.
    status: gateway ? 'secured' : 'unknown',
    risk: risks.some((r) => r.level === 'high') ? 'high' : risks.length > 0 ? 'medium' : 'low',
    evidence,
    notes: risks.map((r) => r.message),
    details,
  };
}

/** `projectDirs`: folders under `options.paths` that the project walk found holding MCP configs. */
export async function scanMcpConfigs(options: ScanOptions & { projectDirs?: readonly string[] }, deps: McpScanDeps = {}): Promise<McpScanSection> {
  const read = deps.readFile ?? readText;
  const skipped: Skipped[] = [];
  const places = mcpConfigPlaces(options);
  const inFolders = await Promise.all(places.folders.map((f) => expandFolder(f, skipped)));
  const locations = [...places.files, ...inFolders.flat()];
  const reads = await Promise.all(locations.map((l) => readConfig(l, read)));
  for (const folder of places.folders) options.scanned?.(`${folder.dir}/ (${CLIENT_LABELS[folder.client]} config folder)`);

  const findings: ScanFinding[] = [];
  const clients = new Map<McpClientId, McpClientFound>();
  locations.forEach((location, i) => {
    const result = reads[i];
    options.scanned?.(`${location.path} (${CLIENT_LABELS[location.client]}: ${result.state === 'missing' ? 'not found' : result.state === 'parsed' ? 'read' : 'not inspected'})`);
    if (result.state === 'missing') return;
    const found = clients.get(location.client) ?? { client: location.client, label: CLIENT_LABELS[location.client], configs: [] };
    found.configs.push(location.path);
    clients.set(location.client, found);
    if (result.state === 'skipped') {
      skipped.push({ what: location.path, reason: result.reason });
      return;
    }
    const { servers, problems } = extractServers(location, result.value);
    for (const problem of problems) skipped.push({ what: location.path, reason: problem.reason });
    const used = new Set<string>();
    for (const parsed of servers) {
      // Two containers in one file (VS Code's `mcp.servers` and `mcp: { servers }`) may reuse a name.
      if (used.has(parsed.scopedName)) parsed.scopedName = formatKeyPath(parsed.keyPath);
      used.add(parsed.scopedName);
      findings.push(toFinding(location, parsed, options));
    }
  });

  const found = [...clients.values()];
  options.progress?.(`MCP: ${found.length} client(s) found, ${findings.length} server(s)`);
  return { findings, skipped, clients: found };
}
