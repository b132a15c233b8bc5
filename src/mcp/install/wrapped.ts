/**
 * How an MCP config entry launches a server through `agentguard mcp wrap`, both ways: the launch line install writes,
 * and the reading of a launch line back into the server it wraps (for uninstall, idempotence and `scan`).
 */
import { fileURLToPath } from 'node:url';
import { commandTokens } from '../../scan/mcp/risks.js';

export interface Launch {
  command: string;
  args: string[];
}

interface WrapFlags {
  /** `--name` given to `mcp wrap`, when there is one. */
  name?: string;
  /** `--policy` given to `mcp wrap`, when there is one. */
  policy?: string;
  /** `--project` given to `mcp wrap`, when there is one. */
  project?: string;
}

/** A wrapped server: started by a launch line after `--`, or reached at `--upstream <url>` (Streamable HTTP). */
export type WrappedServer = WrapFlags & ({ command: string; args: string[]; upstream?: undefined } | { upstream: string; command?: undefined; args?: undefined });

/** `bin/run.js` of this installation (the same relative place from src/ under tsx and from dist/). */
export const AGENTGUARD_BIN = fileURLToPath(new URL('../../../bin/run.js', import.meta.url));

/**
 * The launcher written into client configs: this Node executable and this installation's bin, both absolute. MCP
 * clients started from a desktop (Claude Desktop, Cursor) do not get the shell's PATH, so neither `agentguard` nor
 * `npx` may be found there, and `npx agentguard` would download whatever version the registry serves at each start.
 */
export function defaultLauncher(): Launch {
  return { command: process.execPath, args: [AGENTGUARD_BIN] };
}

export interface WrapSettings {
  /** Absolute folder of the agentguard project (its config, policy and data folder) the gateway uses. */
  project?: string;
  /** Absolute policy file. */
  policy?: string;
  launcher?: Launch;
}

const settingsOf = (options: WrapSettings): string[] => [...(options.project !== undefined ? ['--project', options.project] : []), ...(options.policy !== undefined ? ['--policy', options.policy] : [])];

export function wrapLaunch(server: string, real: Launch, options: WrapSettings = {}): Launch {
  const launcher = options.launcher ?? defaultLauncher();
  return { command: launcher.command, args: [...launcher.args, 'mcp', 'wrap', '--name', server, ...settingsOf(options), '--', real.command, ...real.args] };
}

/** The launch line of a Streamable HTTP server reached through `mcp wrap --upstream` (its headers go in the entry's env). */
export function wrapUpstreamLaunch(server: string, url: string, options: WrapSettings = {}): Launch {
  const launcher = options.launcher ?? defaultLauncher();
  return { command: launcher.command, args: [...launcher.args, 'mcp', 'wrap', '--name', server, ...settingsOf(options), '--upstream', url] };
}

/** `mcp wrap` flags that take a value (the others are booleans). */
const VALUE_FLAGS = new Set(['--name', '--policy', '-p', '--project', '--sidecar', '--token', '--agent-id', '--approval-wait', '--session', '--upstream', '--header-env']);

/** Tokens after the program that runs agentguard: `agentguard …`, `npx [-y] agentguard[@v] …`, `node …/bin/run.js …`. */
function agentguardArgs(tokens: readonly string[]): readonly string[] | undefined {
  const [program, ...rest] = tokens;
  if (program === 'agentguard') return rest;
  if (program === 'npx' || program === 'pnpx' || program === 'bunx') {
    const at = rest.findIndex((t) => !t.startsWith('-'));
    return at >= 0 && /^agentguard(?:@[^\s/]+)?$/.test(rest[at]) ? rest.slice(at + 1) : undefined;
  }
  if (program === 'node' || program === 'nodejs') {
    const script = rest[0];
    const isBin = script !== undefined && /(?:^|[\\/])(?:bin[\\/]run\.js|\.bin[\\/]agentguard|bin[\\/]agentguard)$/.test(script);
    return isBin ? rest.slice(1) : undefined;
  }
  return undefined;
}

/**
 * The server a launch line wraps, or undefined when it does not run `agentguard mcp wrap` (or names neither a server
 * command after it nor an upstream). Only the launch line is read; nothing is started.
 */
export function unwrapLaunch(command: string | undefined, args: readonly string[] = []): WrappedServer | undefined {
  const rest = agentguardArgs(commandTokens(command, args));
  if (!rest || rest[0] !== 'mcp' || rest[1] !== 'wrap') return undefined;
  const out: WrapFlags = {};
  let upstream: string | undefined;
  let i = 2;
  for (; i < rest.length; i++) {
    const token = rest[i];
    if (token === '--') {
      i++;
      break;
    }
    if (!token.startsWith('-')) break;
    const [flag, inline] = token.includes('=') ? [token.slice(0, token.indexOf('=')), token.slice(token.indexOf('=') + 1)] : [token, undefined];
    if (!VALUE_FLAGS.has(flag)) continue;
    const value = inline ?? rest[++i];
    if (flag === '--name') out.name = value;
    if (flag === '--policy' || flag === '-p') out.policy = value;
    if (flag === '--project') out.project = value;
    if (flag === '--upstream') upstream = value;
  }
  const real = rest.slice(i);
  if (upstream !== undefined && real.length === 0) return { ...out, upstream };
  if (real.length === 0 || real[0] === undefined) return undefined;
  return { ...out, command: real[0], args: real.slice(1) };
}
