/**
 * The text edits of install and uninstall on one config: each chosen stdio server's `command`/`args` set to the
 * `mcp wrap` launch line (or back), and each Streamable HTTP server's URL entry turned into a stdio entry that runs
 * `mcp wrap --upstream <url>` (or back), through editJsonc so comments, layout and every other byte stay.
 */
import { findNodeAtLocation, parseTree } from 'jsonc-parser';
import type { ConfigLocation } from '../../scan/mcp/clients.js';
import { editJsonc, parseJsonc } from '../../scan/mcp/jsonc.js';
import { extractServers, formatKeyPath, type ParsedServer } from '../../scan/mcp/parse.js';
import { isPlainObject } from '../../core/plain-object.js';
import { UPSTREAM_HEADERS_ENV } from '../upstream-env.js';
import { unwrapLaunch, wrapLaunch, wrapUpstreamLaunch, type Launch, type WrapSettings, type WrappedServer } from './wrapped.js';

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

type Edits = Array<[Array<string | number>, unknown]>;

/** The keys a client writes a server's URL under (Windsurf: serverUrl, Gemini CLI: httpUrl for Streamable HTTP). */
const URL_KEYS = ['url', 'serverUrl', 'httpUrl'] as const;
/** Keys by which a client signs in to a server itself: the gateway forwards no sign-in flow, so such servers stay as they are. */
const CLIENT_AUTH_KEYS = ['oauth', 'authProviderType', 'headersHelper'];

/**
 * The edits that turn a Streamable HTTP entry into a stdio entry running `mcp wrap --upstream <url>`: the URL key and
 * `headers` removed, `type` (or `transportType`) set to stdio, `command`/`args` set, and the headers moved as they are
 * written (with the client's own `${VAR}` references) into the env variable the gateway reads. A problem string when
 * the entry cannot be wrapped.
 */
function upstreamEdits(parsed: ParsedServer, options: WrapOptions): Edits | string {
  const entry = parsed.entry;
  if (isPlainObject(entry.transport)) return 'its transport is nested in `transport`: not wrapped';
  const auth = CLIENT_AUTH_KEYS.find((k) => entry[k] !== undefined);
  if (auth) return `the client signs in to it itself (\`${auth}\`), which a wrapped server cannot do: not wrapped`;
  const urlKey = URL_KEYS.find((k) => typeof entry[k] === 'string');
  if (!urlKey) return 'no `url` string to wrap';
  const headers = entry.headers;
  if (headers !== undefined && !(isPlainObject(headers) && Object.values(headers).every((v) => typeof v === 'string'))) return '`headers` is not an object of strings: not wrapped';
  const env = entry.env;
  if (env !== undefined && !isPlainObject(env)) return '`env` is not an object: not wrapped';
  const launch = wrapUpstreamLaunch(parsed.server.name, entry[urlKey] as string, options);
  const at = parsed.keyPath;
  const edits: Edits = [[[...at, urlKey], undefined]];
  if (headers !== undefined) edits.push([[...at, 'headers'], undefined]);
  for (const key of ['type', 'transportType']) if (typeof entry[key] === 'string') edits.push([[...at, key], 'stdio']);
  // editJsonc inserts new keys first in their object: added last to first, they read command, args, env.
  if (headers !== undefined && Object.keys(headers as object).length > 0) edits.push([[...at, 'env', UPSTREAM_HEADERS_ENV], JSON.stringify(headers)]);
  edits.push([[...at, 'args'], launch.args], [[...at, 'command'], launch.command]);
  return edits;
}

/** What a client calls a Streamable HTTP server's `type`, and the key its URL goes under, for unwrapping in place. */
const HTTP_TYPE: Partial<Record<string, string>> = { cline: 'streamableHttp' };
const URL_KEY: Partial<Record<string, (typeof URL_KEYS)[number]>> = { windsurf: 'serverUrl', 'gemini-cli': 'httpUrl' };

/** The edits that put a `mcp wrap --upstream` entry back as the client's URL entry (used when there is no byte backup). */
function unwrapUpstreamEdits(parsed: ParsedServer, upstream: string): Edits {
  const { entry, keyPath: at } = parsed;
  const client = parsed.server.client;
  const edits: Edits = [[[...at, 'command'], undefined], [[...at, 'args'], undefined]];
  const env = isPlainObject(entry.env) ? entry.env : undefined;
  let headers: unknown;
  if (env && typeof env[UPSTREAM_HEADERS_ENV] === 'string') {
    try {
      headers = JSON.parse(env[UPSTREAM_HEADERS_ENV] as string);
    } catch {
      headers = undefined;
    }
    const others = Object.keys(env).filter((k) => k !== UPSTREAM_HEADERS_ENV);
    edits.push(others.length === 0 ? [[...at, 'env'], undefined] : [[...at, 'env', UPSTREAM_HEADERS_ENV], undefined]);
  }
  for (const key of ['type', 'transportType']) if (entry[key] === 'stdio') edits.push([[...at, key], HTTP_TYPE[client] ?? 'http']);
  if (isPlainObject(headers)) edits.push([[...at, 'headers'], headers]);
  edits.push([[...at, URL_KEY[client] ?? 'url'], upstream]);
  return edits;
}

const unwrapEdits = (parsed: ParsedServer, real: WrappedServer): Edits =>
  real.upstream !== undefined
    ? unwrapUpstreamEdits(parsed, real.upstream)
    : [[[...parsed.keyPath, 'command'], real.command], [[...parsed.keyPath, 'args'], real.args.length > 0 ? real.args : undefined]];

export function wrapServers(location: ConfigLocation, text: string, choice: ServerChoice, options: WrapOptions = {}): ConfigEdit {
  const changes: ServerChange[] = [];
  let out = text;
  for (const parsed of serversOf(location, text).filter((p) => chosen(choice, p))) {
    const base = { server: parsed.scopedName, keyPath: formatKeyPath(parsed.keyPath) };
    const launch = launchOf(parsed.entry);
    if (parsed.server.transport === 'sse') {
      changes.push({ ...base, outcome: 'skipped', note: 'SSE server (the HTTP+SSE transport MCP replaced in 2025-03-26): not wrapped; `mcp wrap --upstream` speaks Streamable HTTP' });
      continue;
    }
    if (parsed.server.transport === 'http') {
      const edits = upstreamEdits(parsed, options);
      if (typeof edits === 'string') {
        changes.push({ ...base, outcome: 'skipped', note: edits });
        continue;
      }
      out = edited(out, location, edits);
      const moved = isPlainObject(parsed.entry.headers) && Object.keys(parsed.entry.headers).length > 0;
      changes.push({ ...base, outcome: 'wrapped', note: `Streamable HTTP, reached through --upstream${moved ? `; its headers now in env.${UPSTREAM_HEADERS_ENV}` : ''}` });
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
    out = edited(out, location, unwrapEdits(parsed, real));
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
