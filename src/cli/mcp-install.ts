/** What `agentguard mcp install` and `uninstall` share: the client argument, the server flags, the error mapping. */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, resolve } from 'node:path';
import { Args, Flags } from '@oclif/core';
import { AgentGuardError } from '../core/errors.js';
import type { InstallProblem, InstallReport } from '../mcp/install/install.js';
import { CLIENT_LABELS, type McpClientId } from '../scan/mcp/clients.js';

/** Clients whose configs are JSON or JSONC (Continue keeps YAML too, which is not edited). */
const CLIENTS = Object.keys(CLIENT_LABELS) as McpClientId[];

export const clientArg = Args.string({ description: 'The MCP client whose config to change.', required: true, options: CLIENTS });

export const serverFlags = {
  server: Flags.string({ description: 'A server to change, by its name in the config (repeat for more).', multiple: true, exclusive: ['all'], helpValue: '<name>' }),
  all: Flags.boolean({ description: 'Change every server of the client.', default: false, exclusive: ['server'] }),
};

export const homeFlag = {
  home: Flags.string({ description: 'Home folder whose MCP client configs to change (default: yours).', hidden: true }),
};

const PROBLEM_CODES = {
  'no-config': { code: 'MCP_CLIENT_CONFIG_NOT_FOUND' },
  'no-server': { code: 'MCP_SERVER_NOT_FOUND' },
  unreadable: { code: 'MCP_CLIENT_CONFIG_UNREADABLE' },
} as const satisfies Record<InstallProblem, { code: string }>;

interface CommandFlags {
  server?: string[];
  all: boolean;
  'dry-run': boolean;
  policy?: string;
  home?: string;
}

/**
 * What the wrapped servers run with: the project found from here (its folder always, since MCP clients start servers
 * in a folder of their own choosing), and the policy given (absolute). Refused when there would be no policy to load,
 * as every call would then be denied.
 */
export async function settingsFor(given: string | undefined): Promise<{ project: string; policy?: string }> {
  const [{ loadProjectConfig }, { Policy }] = await Promise.all([import('../core/config/project-config.js'), import('../core/policy/policy.js')]);
  const project = await loadProjectConfig();
  const policy = given !== undefined ? resolve(given) : project.paths.policy;
  if (!existsSync(policy)) {
    throw new AgentGuardError('USAGE', given !== undefined ? `the policy file ${policy} does not exist` : `no agentguard policy here (looked for ${policy})`, {
      actions: ['Run the command in your agentguard project (`agentguard init` makes one), or pass --policy <file>.'],
    });
  }
  // The policy must load now: a wrapped server whose policy does not load has every tool call denied.
  await Policy.fromFile(policy);
  return { project: project.root, ...(given !== undefined ? { policy } : {}) };
}

export async function runInstallCommand(verb: 'install' | 'uninstall', client: string, flags: CommandFlags): Promise<InstallReport> {
  if (!flags.all && (flags.server === undefined || flags.server.length === 0)) {
    throw new AgentGuardError('USAGE', 'no server chosen', { actions: [`Name one with --server <name> (repeat for more), or pass --all; \`agentguard mcp ${verb} ${client} --all --dry-run\` shows them all without writing.`] });
  }
  const { installServers, uninstallServers, InstallError } = await import('../mcp/install/install.js');
  const home = flags.home !== undefined ? resolve(flags.home) : homedir();
  const target = {
    client: client as McpClientId,
    home,
    platform: process.platform,
    cwd: process.cwd(),
    // $XDG_CONFIG_HOME belongs to the real home folder, as in `scan`.
    ...(flags.home === undefined && process.env.XDG_CONFIG_HOME && isAbsolute(process.env.XDG_CONFIG_HOME) ? { xdgConfigHome: process.env.XDG_CONFIG_HOME } : {}),
  };
  const choice = flags.all ? { all: true as const } : { names: flags.server ?? [] };
  try {
    if (verb === 'uninstall') return await uninstallServers(target, { choice, dryRun: flags['dry-run'] });
    return await installServers(target, { choice, dryRun: flags['dry-run'], ...(await settingsFor(flags.policy)) });
  } catch (error) {
    if (!(error instanceof InstallError)) throw error;
    throw new AgentGuardError(PROBLEM_CODES[error.problem].code, error.message, { actions: error.hints, cause: error });
  }
}
