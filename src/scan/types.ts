/**
 * What `agentguard scan` reports. Every scanner returns findings AND what it could not inspect: a scan that could not
 * read something must say so, never look clean.
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
  | 'project';

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

/** Something the scan could not inspect, and why. */
export interface Skipped {
  /** What was not inspected, e.g. `process 1234 command line`, `/home/me/.cursor/mcp.json`, `port 8080 probe`. */
  what: string;
  /** permission denied, unreadable, malformed, unsupported platform, timed out, … */
  reason: string;
}

export interface ScanSection {
  findings: ScanFinding[];
  skipped: Skipped[];
  /** Kinds this section looked for everywhere on the machine (every process listed), so that a kind's absence means gone. */
  completeKinds?: FindingKind[];
  /** Id prefixes of what it could not read (`process:1234:`). */
  notInspected?: string[];
}

/** What every scanner gets. Tests point `home`, `procRoot` and `paths` at fixtures. */
export interface ScanOptions {
  /** The user's home folder (MCP client configs live under it). */
  home: string;
  /** Project folders to inspect (default: the current folder). */
  paths: string[];
  /** Probe listening ports over HTTP on loopback to confirm model and agent servers. */
  probe: boolean;
  platform: NodeJS.Platform;
  /** Linux: `$XDG_CONFIG_HOME`, where Claude Desktop, Zed and VS Code keep their configs when it is set. */
  xdgConfigHome?: string;
  /** Linux: where /proc is mounted (tests may use a copy). */
  procRoot: string;
  /** Milliseconds each HTTP probe may take. */
  probeTimeoutMs: number;
  /** Only these pids (tests scan their own fixture processes); all when absent. */
  pids?: number[];
  /**
   * Key of the HMAC that hashes MCP config entries (`details.contentHash`), so a hash cannot be reversed to a secret
   * by guessing. The CLI derives it from the data folder's key; absent, a random key of this process is used.
   */
  contentKey?: Uint8Array;
  /** Called with every location scanned (a config file, a config folder, a project folder), found or not: `--verbose`. */
  scanned?: (where: string) => void;
  /** Called with short progress messages (`reading MCP configs`, `probing 4 ports`). */
  progress?: (message: string) => void;
}
