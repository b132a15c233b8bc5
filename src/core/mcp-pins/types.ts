/**
 * Pins of MCP tool definitions: the hash of each tool's description and input schema (with title and annotations) as
 * first seen or last approved, and what was seen since. The MCP gateway (src/mcp/pins/) decides what a pin means;
 * the store only keeps them, atomically across the processes that share a data folder.
 */

/** Something found in a tool definition that keeps it from being trusted without a person approving it. */
export interface PinFlag {
  /** `injection` (instructions hidden in the definition), `shadows` (it names another server's tool), … */
  type: string;
  message: string;
}

/** How a pin was made: at the server's first listing, or by a person (`agentguard mcp pins approve`). */
export type PinOrigin = 'first-sight' | 'approved';

/** One tool of one server as stored. Times are ISO 8601 UTC. */
export interface McpPin {
  server: string;
  tool: string;
  /** Hash of the pinned definition; null when the tool was never pinned (new after the first listing, or flagged then). */
  pinnedHash: string | null;
  pinnedAt: string | null;
  pinnedBy: PinOrigin | null;
  /** Hash of the definition seen at the last listing. */
  seenHash: string;
  seenAt: string;
  /** The definition seen at the last listing (what `approve` pins). */
  seen: Record<string, unknown>;
  /** What was found in the seen definition. */
  flags: PinFlag[];
}

/** One tool of a listing, as the gateway hands it to the store. */
export interface SeenTool {
  tool: string;
  hash: string;
  definition: Record<string, unknown>;
  flags: PinFlag[];
}

export interface RecordedListing {
  /** True when this was (part of) the server's first listing in this store: its unflagged new tools were pinned by it. */
  firstListing: boolean;
  /** The stored rows of the listed tools, in the order given. */
  pins: McpPin[];
}

/** The MCP pin part of the store. Async so a PostgreSQL implementation can follow. */
export interface McpPinStore {
  /**
   * Records one `tools/list` result of `server` in one transaction: each tool's seen definition, hash and flags. When
   * the server has no listing yet, or `session` made its first one (the next pages of a paginated list), this is its
   * first listing: every tool without flags and without a pin is pinned as seen (`first-sight`). Pins are never
   * changed by a listing otherwise.
   */
  recordListing(server: string, tools: readonly SeenTool[], at: string, session: string): Promise<RecordedListing>;
  get(server: string, tool: string): Promise<McpPin | null>;
  /** Every stored tool, by server then tool; only `server`'s when given. */
  list(filter?: { server?: string }): Promise<McpPin[]>;
  /** Pins the seen definition of a tool (`approved`); null when the store has no such tool. */
  approve(server: string, tool: string, at: string): Promise<McpPin | null>;
  /**
   * Forgets pins: every server's with no argument, one server's (its next listing is a first listing again), or one
   * tool's (new again at its next listing). Returns how many tools were forgotten.
   */
  reset(server?: string, tool?: string): Promise<number>;
}
