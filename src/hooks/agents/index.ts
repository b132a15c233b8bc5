import type { CodingAgentId } from '../agent-ids.js';
import type { AgentAdapter } from '../types.js';

/** The one adapter a hook process needs, without loading the other agents' modules (the hook's start is on every tool call). */
export async function loadAdapter(id: CodingAgentId): Promise<AgentAdapter> {
  switch (id) {
    case 'claude-code':
      return (await import('./claude-code.js')).claudeCode;
    case 'codex':
      return (await import('./codex.js')).codex;
    case 'copilot-cli':
      return (await import('./copilot-cli.js')).copilotCli;
    case 'cursor':
      return (await import('./cursor.js')).cursor;
    case 'gemini-cli':
      return (await import('./gemini-cli.js')).geminiCli;
    case 'windsurf':
      return (await import('./windsurf.js')).windsurf;
  }
}
