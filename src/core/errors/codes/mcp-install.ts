import { defineErrors } from '../spec.js';

/** Errors of `agentguard mcp install` / `uninstall` (rewriting MCP client configs). */
export const MCP_INSTALL_ERRORS = defineErrors({
  MCP_CLIENT_CONFIG_NOT_FOUND: {
    status: 404,
    exit: 1,
    meaning: 'The MCP client named has no config file in the places `agentguard scan` reads (home folder and the current project folder).',
    fix: 'Add the server in the client first, or run the command in the project folder whose config (.mcp.json, .vscode/mcp.json, …) to change.',
  },
  MCP_SERVER_NOT_FOUND: {
    status: 404,
    exit: 1,
    meaning: 'No server of that name is configured in the client\'s config files.',
    fix: 'Use a name from the list in the message (as `agentguard scan` shows it), or --all.',
  },
  MCP_CLIENT_CONFIG_UNREADABLE: {
    status: 400,
    exit: 2,
    meaning: 'A config file of the client cannot be read or does not parse, so it cannot be rewritten safely; nothing was changed.',
    fix: 'Fix the file at the line:column named (the client reads it the same way), then run the command again.',
  },
});
