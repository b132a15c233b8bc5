import { Flags } from '@oclif/core';
import { AgentGuardError } from '../core/errors.js';
import type { McpDecider } from '../mcp/decider.js';
import type { ToolListGuard } from '../mcp/hooks.js';

/** The flags `mcp wrap` and `mcp proxy` share: where decisions are made, and how long an approval may be waited for. */
export const gatewayFlags = {
  policy: Flags.string({ char: 'p', description: 'Policy file (local mode; default: the policy in agentguard.config.json, else agentguard/policy.yaml).', exclusive: ['sidecar'] }),
  sidecar: Flags.string({ description: 'Decide through the sidecar at this URL instead of in this process.', env: 'AGENTGUARD_SIDECAR_URL' }),
  token: Flags.string({ description: 'The sidecar token (prefer the AGENTGUARD_TOKEN environment variable: arguments are visible to other processes).', env: 'AGENTGUARD_TOKEN' }),
  'agent-id': Flags.string({ description: 'Sidecar mode: the agent id put on actions (an agent token fills in its own).' }),
  project: Flags.string({ description: 'Folder whose agentguard.config.json (policy, data folder) to use. Default: the working folder, which MCP clients choose themselves (Claude Desktop starts servers in /), so configs written by `agentguard mcp install` name it.', helpValue: '<dir>' }),
  'approval-wait': Flags.integer({ description: 'Milliseconds a call the policy sends for approval waits for a person\'s answer; 0 denies it at once, naming the approval to approve before calling again.', min: 0, default: 0 }),
};

interface GatewayFlagValues {
  policy?: string;
  sidecar?: string;
  token?: string;
  'agent-id'?: string;
  project?: string;
}

/** What a gateway command runs on: the decider (engine or sidecar) and the tool pins; close both when done. */
export interface GatewayParts {
  decider: McpDecider;
  guard: ToolListGuard | undefined;
  log(message: string): void;
  close(): Promise<void>;
}

/** Opens the decider and the tool pins from the shared flags (lazily imported: the gateway is not loaded by --help). */
export async function openGatewayParts(flags: GatewayFlagValues): Promise<GatewayParts> {
  if (flags.sidecar !== undefined && !flags.token) {
    throw new AgentGuardError('USAGE', '--sidecar needs a token', { actions: ['Set AGENTGUARD_TOKEN to a token from `agentguard token create` (or pass --token).'] });
  }
  const log = (message: string): void => void process.stderr.write(`${message}\n`);
  const [{ openDecider }, { openGuard }] = await Promise.all([import('../mcp/open-decider.js'), import('../mcp/open-guard.js')]);
  const { decider, project, recorder } = await openDecider({
    ...(flags.policy !== undefined ? { policy: flags.policy } : {}),
    ...(flags.sidecar !== undefined ? { sidecar: { url: flags.sidecar, token: flags.token! } } : {}),
    ...(flags['agent-id'] !== undefined ? { agentId: flags['agent-id'] } : {}),
    ...(flags.project !== undefined ? { projectDir: flags.project } : {}),
    log,
  });
  const pins = await openGuard(project, recorder, log);
  return {
    decider,
    guard: pins.guard,
    log,
    close: async () => {
      await pins.close();
      await decider.close();
    },
  };
}
