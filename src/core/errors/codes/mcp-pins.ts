import { defineErrors } from '../spec.js';

/** Errors of the MCP gateway's tool pins (`agentguard mcp pins …`). */
export const MCP_PIN_ERRORS = defineErrors({
  MCP_CONFIG_INVALID: {
    status: 400,
    exit: 2,
    meaning: 'The `mcp` section of agentguard.config.json cannot be used.',
    fix: 'Write "mcp": { "onChange": "block" } (one of hide, block, flag), or remove the section.',
  },
});
