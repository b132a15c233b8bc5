/**
 * The coding agents whose hook format agentguard speaks. Each was confirmed from the agent's own
 * published hook reference (named per agent in docs/coding-agents/<id>.md).
 */
export const CODING_AGENTS = [
  { id: 'claude-code', displayName: 'Claude Code', prefix: 'claude' },
  { id: 'codex', displayName: 'OpenAI Codex CLI', prefix: 'codex' },
  { id: 'copilot-cli', displayName: 'GitHub Copilot CLI', prefix: 'copilot' },
  { id: 'cursor', displayName: 'Cursor', prefix: 'cursor' },
  { id: 'gemini-cli', displayName: 'Gemini CLI', prefix: 'gemini' },
  { id: 'windsurf', displayName: 'Windsurf (Cascade)', prefix: 'windsurf' },
] as const;

export type CodingAgentId = (typeof CODING_AGENTS)[number]['id'];

export const CODING_AGENT_IDS: readonly CodingAgentId[] = CODING_AGENTS.map((agent) => agent.id);

export function isCodingAgentId(value: string): value is CodingAgentId {
  return (CODING_AGENT_IDS as readonly string[]).includes(value);
}

export function agentDisplayName(id: CodingAgentId): string {
  return CODING_AGENTS.find((agent) => agent.id === id)!.displayName;
}

/** The action-name prefix for a tool of this agent that maps to no common action (`<prefix>.<tool>`). */
export function agentActionPrefix(id: CodingAgentId): string {
  return CODING_AGENTS.find((agent) => agent.id === id)!.prefix;
}
