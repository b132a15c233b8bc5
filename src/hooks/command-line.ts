import { fileURLToPath } from 'node:url';
import path from 'node:path';

/** The package root: this file sits in src/hooks/ (tests) or dist/hooks/ (installed), two levels down. */
export function packageRoot(): string {
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
}

/** The absolute path of the lean hook entry that agents run on every tool call. */
export function hookEntryPath(): string {
  return path.join(packageRoot(), 'bin', 'agentguard-hook.js');
}

/**
 * The command line an agent's hook configuration runs: `"<node>" "<package>/bin/agentguard-hook.js" <agent-id>`.
 * Node is named by its absolute path, as `mcp install` does: an editor started from a desktop launcher often has no
 * shell PATH, and a hook that cannot start would leave the agent's tool calls unguarded or blocked.
 * The event (pre- or post-tool) is read from the payload, so one line serves every hook event of an agent.
 */
export function hookCommandLine(agentId: string, node: string = process.execPath): string {
  const entry = hookEntryPath();
  for (const part of [entry, node]) {
    if (/["$`\\]/.test(part)) throw new Error(`agentguard or node is installed under a path a shell would read specially (${part}); hooks cannot name it safely`);
  }
  if (!/^[a-z][a-z0-9-]*$/.test(agentId)) throw new Error(`not a coding agent id: ${agentId}`);
  return `"${node}" "${entry}" ${agentId}`;
}
