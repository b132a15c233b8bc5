/**
 * What `agentguard scan` reports. Every scanner returns findings AND what it could not inspect: a scan that could not
 * read something must say so, never look clean.
 */

export type { Coverage, FindingKind, Risk, ScanFinding } from '../core/agents/finding-types.js';
import type { FindingKind, ScanFinding } from '../core/agents/finding-types.js';

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
  /** Folders searched for coding-agent programs, as $PATH lists them (default: $PATH for your own home folder, none for a fixture home). */
  searchPath?: string;
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
