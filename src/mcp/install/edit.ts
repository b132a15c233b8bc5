/**
 * The text edits of install and uninstall on one config: each chosen stdio server's `command`/`args` set to the
 * `mcp wrap` launch line (or back), through editJsonc so comments, layout and every other byte stay.
 */
import { findNodeAtLocation, parseTree } from 'jsonc-parser';
import type { ConfigLocation } from '../../scan/mcp/clients.js';
import { editJsonc, parseJsonc } from '../../scan/mcp/jsonc.js';
import { extractServers, formatKeyPath, type ParsedServer } from '../../scan/mcp/parse.js';
import { unwrapLaunch, wrapLaunch, type Launch, type WrapSettings } from './wrapped.js';

/** Which servers: all of them, or these names (a Claude Code project server also answers to `projects[dir].name`). */
export type ServerChoice = { all: true } | { names: readonly string[] };

export type ServerOutcome = 'wrapped' | 'already-wrapped' | 'unwrapped' | 'not-wrapped' | 'skipped';

export interface ServerChange {
  server: string;
  keyPath: string;
  outcome: ServerOutcome;
  /** Why a server was skipped, or what was done to it. */
  note?: string;
}

export interface ConfigEdit {
  text: string;
  changes: ServerChange[];
}

export class ConfigParseError extends Error {
  override name = 'ConfigParseError';
}

const BOM = '\uFEFF';

/** The servers of a config text; throws ConfigParseError naming line:column when the text does not parse. */
export function serversOf(location: ConfigLocation, text: string): ParsedServer[] {
  const body = text.startsWith(BOM) ? text.slice(1) : text;
  if (body.trim() === '') return [];
  const parsed = parseJsonc(body, { strict: location.syntax === 'json' });
  if (!parsed.ok) throw new ConfigParseError(`${location.path} cannot be read: ${parsed.message}${location.syntax === 'json' ? ' (this client reads strict JSON: no comments or trailing commas)' : ''}`);
  const { servers, problems } = extractServers(location, parsed.value);
  if (problems.length > 0 && servers.length === 0) throw new ConfigParseError(`${location.path} cannot be read: ${problems[0].reason}`);
  return servers;
}

export const chosen = (choice: ServerChoice, parsed: ParsedServer): boolean =>
  'all' in choice || choice.names.includes(parsed.server.name) || choice.names.includes(parsed.scopedName);

/** The launch line written in the entry, when it is a plain `command` string with string `args` (or none). */
function launchOf(entry: Record<string, unknown>): Launch | undefined {
  if (typeof entry.command !== 'string' || entry.command.trim() === '') return undefined;
  if (entry.args !== undefined && !(Array.isArray(entry.args) && entry.args.every((a) => typeof a === 'string'))) return undefined;
  return { command: entry.command, args: (entry.args as string[] | undefined) ?? [] };
}

/**
 * Sets one value. An array written on one line (`"args": ["-y", "pkg"]`) is replaced on one line, as its author
 * wrote it; anything else goes through editJsonc, which lays out what it writes.
 */
function setValue(body: string, path: Array<string | number>, value: unknown, strict: boolean): string {
  const root = parseTree(body, [], { allowTrailingComma: !strict, disallowComments: strict });
  const node = root && findNodeAtLocation(root, path);
  if (node?.type === 'array' && Array.isArray(value) && !body.slice(node.offset, node.offset + node.length).includes('\n')) {
    const inline = `${body.slice(0, node.offset)}[${value.map((v) => JSON.stringify(v)).join(', ')}]${body.slice(node.offset + node.length)}`;
    if (parseJsonc(inline, { strict }).ok) return inline;
  }
  return editJsonc(body, path, value, { strict });
}

/** Applies the edits to the text kept without its byte order mark, which goes back in front. */
function edited(text: string, location: ConfigLocation, edits: Array<[Array<string | number>, unknown]>): string {
  const bom = text.startsWith(BOM) ? BOM : '';
  let body = bom ? text.slice(1) : text;
  for (const [path, value] of edits) body = setValue(body, path, value, location.syntax === 'json');
  return bom + body;
}

export type WrapOptions = WrapSettings;

export function wrapServers(location: ConfigLocation, text: string, choice: ServerChoice, options: WrapOptions = {}): ConfigEdit {
  const changes: ServerChange[] = [];
  let out = text;
  for (const parsed of serversOf(location, text).filter((p) => chosen(choice, p))) {
    const base = { server: parsed.scopedName, keyPath: formatKeyPath(parsed.keyPath) };
    const launch = launchOf(parsed.entry);
    if (parsed.server.transport !== 'stdio' && parsed.server.transport !== 'unknown') {
      changes.push({ ...base, outcome: 'skipped', note: `${parsed.server.transport.toUpperCase()} server: not wrapped (only stdio servers can be, until \`agentguard mcp proxy\` is available)` });
      continue;
    }
    if (!launch || parsed.server.transport === 'unknown') {
      changes.push({ ...base, outcome: 'skipped', note: 'no `command` string with string `args` to wrap' });
      continue;
    }
    if (unwrapLaunch(launch.command, launch.args)) {
      changes.push({ ...base, outcome: 'already-wrapped' });
      continue;
    }
    // A whole command line written in `command` ("npx -y pkg") is split as a shell would, since wrap starts the
    // server without a shell.
    const words = launch.command.trim().split(/\s+/);
    const real = words.length > 1 && !/[\\/]/.test(words[0]) && launch.args.length === 0 ? { command: words[0], args: words.slice(1) } : launch;
    const wrapped = wrapLaunch(parsed.server.name, real, options);
    out = edited(out, location, [[[...parsed.keyPath, 'command'], wrapped.command], [[...parsed.keyPath, 'args'], wrapped.args]]);
    changes.push({ ...base, outcome: 'wrapped' });
  }
  return { text: out, changes };
}

export function unwrapServers(location: ConfigLocation, text: string, choice: ServerChoice): ConfigEdit {
  const changes: ServerChange[] = [];
  let out = text;
  for (const parsed of serversOf(location, text).filter((p) => chosen(choice, p))) {
    const base = { server: parsed.scopedName, keyPath: formatKeyPath(parsed.keyPath) };
    const launch = launchOf(parsed.entry);
    const real = launch && unwrapLaunch(launch.command, launch.args);
    if (!real) {
      changes.push({ ...base, outcome: 'not-wrapped' });
      continue;
    }
    out = edited(out, location, [[[...parsed.keyPath, 'command'], real.command], [[...parsed.keyPath, 'args'], real.args.length > 0 ? real.args : undefined]]);
    changes.push({ ...base, outcome: 'unwrapped' });
  }
  return { text: out, changes };
}

/** Names of the servers in the text that run through `mcp wrap`. */
export function wrappedNames(location: ConfigLocation, text: string): string[] {
  return serversOf(location, text)
    .filter((p) => {
      const launch = launchOf(p.entry);
      return launch !== undefined && unwrapLaunch(launch.command, launch.args) !== undefined;
    })
    .map((p) => p.scopedName);
}
