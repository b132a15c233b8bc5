import type { McpPin } from '../../core/mcp-pins/types.js';

/**
 * Where a tool stands:
 * - `pinned`: listed as pinned (at the server's first listing, or approved), nothing flagged since;
 * - `changed`: its definition differs from the pinned one (a rug pull, or an update nobody approved yet);
 * - `new`: it appeared after the server's first listing;
 * - `flagged`: the description policy found instructions in it (or it shadows another server's tools).
 */
export type PinState = 'pinned' | 'changed' | 'new' | 'flagged';

export interface PinVerdict {
  state: PinState;
  /** Why the tool is not trusted as listed, with the command that approves it; null when pinned. */
  reason: string | null;
}

/** The command a person runs to trust a tool as it is listed now. */
export function approveCommand(server: string, tool: string): string {
  return `agentguard mcp pins approve ${server}.${tool}`;
}

/** The verdict on a stored tool. A person's approval of exactly the definition seen outweighs flags found in it. */
export function verdictOf(pin: McpPin): PinVerdict {
  const name = `${pin.server}.${pin.tool}`;
  const fix = `review it and, if you trust it, run \`${approveCommand(pin.server, pin.tool)}\``;
  const flags = pin.flags.map((f) => f.message).join('; ');
  if (pin.pinnedHash !== null && pin.pinnedHash !== pin.seenHash) {
    return { state: 'changed', reason: `the definition of ${name} changed since it was pinned at ${pin.pinnedAt}${flags ? ` (${flags})` : ''}; ${fix}` };
  }
  if (pin.flags.length > 0 && !(pin.pinnedBy === 'approved' && pin.pinnedHash === pin.seenHash)) {
    return { state: 'flagged', reason: `${name} was flagged: ${flags}; ${fix}` };
  }
  if (pin.pinnedHash === null) {
    return { state: 'new', reason: `${name} appeared after the server's tools were first pinned; ${fix}` };
  }
  return { state: 'pinned', reason: null };
}
