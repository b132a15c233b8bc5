import { defineErrors } from '../spec.js';

/** Errors of `agentguard hooks install|uninstall` and `agentguard scan --fix|--unfix` (rewriting agents' hook files). */
export const HOOKS_INSTALL_ERRORS = defineErrors({
  HOOKS_CONFIG_UNREADABLE: {
    status: 400,
    exit: 2,
    meaning: 'A coding agent\'s hook file (or settings file) cannot be read or does not parse, so it cannot be rewritten safely; nothing was changed.',
    fix: 'Fix the file at the line:column named (the agent reads it the same way), then run the command again.',
  },
  HOOKS_NO_AGENT: {
    status: 404,
    exit: 1,
    meaning: '--all found no coding agent set up on this machine (none of their user folders exists).',
    fix: 'Name the agent (`agentguard hooks install claude-code`), which writes its hook file even when its folder is missing.',
  },
  SCAN_FIX_MANIFEST: {
    status: 400,
    exit: 1,
    meaning: '`scan --unfix` found no record of a `scan --fix` to undo, or the record cannot be read.',
    fix: 'Run `scan --unfix` with the same --data-dir as `scan --fix`; without a record, undo single agents with `agentguard hooks uninstall` and `agentguard mcp uninstall`.',
  },
});
