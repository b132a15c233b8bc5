import { AgentGuardError } from '../../core/errors.js';
import type { McpPin } from '../../core/mcp-pins/types.js';

/**
 * The stored tool that `<server>.<tool>` names. Server and tool names may themselves hold dots, so every split is
 * tried against what the store knows; the first that names a stored tool wins.
 */
export function findPin(name: string, pins: readonly McpPin[]): McpPin | undefined {
  for (let i = name.indexOf('.'); i > 0; i = name.indexOf('.', i + 1)) {
    const server = name.slice(0, i);
    const tool = name.slice(i + 1);
    const pin = pins.find((p) => p.server === server && p.tool === tool);
    if (pin) return pin;
  }
  return undefined;
}

/** Refuses an empty name or one with control characters before anything is looked up. */
export function checkPinName(name: string): void {
  // eslint-disable-next-line no-control-regex
  if (name.trim() === '' || /[\u0000-\u001f\u007f]/.test(name)) {
    throw new AgentGuardError('MCP_PIN_NAME_INVALID', 'the name is empty or holds control characters', {
      actions: ['Pass <server> or <server>.<tool> as `agentguard mcp pins list` shows it.'],
    });
  }
}

/** The error for a name nothing stored matches, with the command that lists what is. */
export function pinNotFound(name: string, dataDir: string): AgentGuardError {
  return new AgentGuardError('MCP_PIN_NOT_FOUND', `no MCP tool or server named ${JSON.stringify(name)} was listed through agentguard with the data folder ${dataDir}`, {
    actions: ['List the known tools with `agentguard mcp pins list` and copy the <server>.<tool> name from there.', 'If the pins live in another data folder, pass --data-dir <folder>.'],
  });
}
