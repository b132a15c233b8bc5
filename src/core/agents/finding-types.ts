/**
 * What a scan finds, as the agent registry (core) keeps it. `agentguard scan` reports these (src/scan/types.ts
 * re-exports them); they live in core so the registry and the store never import the scanner.
 */

/** Whether a finding goes through agentguard. `unknown`: it cannot be told from here (e.g. a model server). */
export type Coverage = 'secured' | 'unsecured' | 'unknown';

export type Risk = 'high' | 'medium' | 'low' | 'info';

export type FindingKind =
  /** A running process that loads an agent framework or LLM SDK, or is a known agent CLI. */
  | 'agent-process'
  /** A running process holding LLM credentials in its environment (names only), not otherwise recognised. */
  | 'credential-process'
  /** A local model server confirmed by its API (Ollama, OpenAI-compatible, llama.cpp, …). */
  | 'model-server'
  /** A local agent or LLM app server confirmed by its API (Flowise, Langflow, n8n, LiteLLM proxy, …). */
  | 'agent-server'
  /** An MCP server configured in an MCP client (Claude Desktop, Claude Code, Cursor, VS Code, …). */
  | 'mcp-server'
  /** A project whose dependencies or imports reveal agent frameworks or LLM SDKs. */
  | 'project'
  /** A coding agent set up on this machine (Claude Code, Cursor, Gemini CLI, …): whether its hooks and MCP servers go through agentguard. */
  | 'coding-agent';

export interface ScanFinding {
  /** Stable across scans: the registry and --watch key on it, e.g. `project:/home/me/bot`, `mcp:cursor:/home/me/.cursor/mcp.json#github`. */
  id: string;
  kind: FindingKind;
  /** A short human label. */
  name: string;
  /** Agent frameworks and LLM SDKs seen (names from fingerprints.ts), with versions when known. */
  frameworks: Array<{ name: string; version?: string }>;
  /** Where it is: a path, `pid 1234`, `127.0.0.1:11434`. */
  location: string;
  status: Coverage;
  risk: Risk;
  /** How it was found and confirmed, one fact per entry (e.g. `GET http://127.0.0.1:11434/api/tags → 200, 3 models`). Never secret values. */
  evidence: string[];
  /** Risk notes (unpinned npx package, secret written in a config, plain-HTTP remote server, …). */
  notes: string[];
  /** Kind-specific facts for JSON output and the AI bill of materials (pid, port, command, transport, models, …). */
  details: Record<string, unknown>;
}
