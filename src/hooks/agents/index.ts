import type { CodingAgentId } from '../agent-ids.js';
import type { AgentAdapter } from '../types.js';
import { claudeCode } from './claude-code.js';
import { codex } from './codex.js';
import { copilotCli } from './copilot-cli.js';
import { cursor } from './cursor.js';
import { geminiCli } from './gemini-cli.js';
import { windsurf } from './windsurf.js';

const ADAPTERS: Record<CodingAgentId, AgentAdapter> = {
  'claude-code': claudeCode,
  codex,
  'copilot-cli': copilotCli,
  cursor,
  'gemini-cli': geminiCli,
  windsurf,
};

export function adapterFor(id: CodingAgentId): AgentAdapter {
  return ADAPTERS[id];
}
