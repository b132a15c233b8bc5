import { defineErrors } from '../spec.js';

/** Errors of the MCP gateway's tool pins (`agentguard mcp pins …`). */
export const MCP_PIN_ERRORS = defineErrors({
  MCP_PIN_NAME_INVALID: {
    status: 400,
    exit: 2,
    meaning: 'The argument does not name a server or a tool as `<server>` or `<server>.<tool>`.',
    fix: 'Copy the name from `agentguard mcp pins list` (the server is the `--name` given to `agentguard mcp wrap`).',
  },
  MCP_PIN_NOT_FOUND: {
    status: 404,
    exit: 1,
    meaning: 'No tool of that name was ever listed through the gateway with this data folder.',
    fix: 'List the known tools with `agentguard mcp pins list`; if the data lives elsewhere, pass --data-dir <folder>.',
  },
  MCP_PIN_SERVER_FAILED: {
    status: 502,
    exit: 2,
    meaning: '`agentguard mcp pin` could not start the MCP server or list its tools.',
    fix: 'Check that the command after -- starts the server over stdio, as the client config runs it (and raise --timeout for a slow start).',
  },
  MCP_CONFIG_INVALID: {
    status: 400,
    exit: 2,
    meaning: 'The `mcp` section of agentguard.config.json cannot be used.',
    fix: 'Write "mcp": { "onChange": "block" } (one of hide, block, flag), or remove the section.',
  },
});
