// Light entry for code that installs or lists hooks; the hook runtime itself lives in run-hook.ts.
export { CODING_AGENTS, CODING_AGENT_IDS, isCodingAgentId, agentDisplayName, agentActionPrefix } from './agent-ids.js';
export type { CodingAgentId } from './agent-ids.js';
export { hookCommandLine, hookEntryPath, packageRoot } from './command-line.js';
