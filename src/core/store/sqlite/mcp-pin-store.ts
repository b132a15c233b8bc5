import type { Database, Statement } from 'better-sqlite3';
import type { McpPin, McpPinStore, PinFlag, PinOrigin, RecordedListing, SeenTool } from '../../mcp-pins/types.js';
import { isPlainObject } from '../../plain-object.js';
import { jsonColumn } from './json-column.js';

interface PinRow {
  server: string;
  tool: string;
  pinnedHash: string | null;
  pinnedAt: string | null;
  pinnedBy: string | null;
  seenHash: string;
  seenAt: string;
  seen: string;
  flags: string;
}

export const COLUMNS = `server, tool, pinned_hash AS pinnedHash, pinned_at AS pinnedAt, pinned_by AS pinnedBy, seen_hash AS seenHash,
  seen_at AS seenAt, seen_definition AS seen, flags`;

const isFlags = (v: unknown): boolean =>
  Array.isArray(v) && v.every((f) => isPlainObject(f) && typeof f.type === 'string' && typeof f.message === 'string');

/**
 * MCP tool pins in SQLite (tables `mcp_servers` and `mcp_pins`, migration 10; `mcp_servers.first_session`, migration 11). A listing is recorded in one
 * `BEGIN IMMEDIATE` transaction that reads whether the server was listed before, so two gateways listing a new server
 * at once agree on which listing was the first.
 */
export class SqliteMcpPinStore implements McpPinStore {
  private readonly getStmt: Statement<[string, string], PinRow>;
  private readonly listAllStmt: Statement<[], PinRow>;
  private readonly listServerStmt: Statement<[string], PinRow>;
  private readonly serverStmt: Statement<[string], { firstSession: string | null }>;
  private readonly addServerStmt: Statement<[string, string, string]>;
  private readonly seenStmt: Statement<[string, string, string, string, string, string]>;
  private readonly pinSeenStmt: Statement<[string, string, string, string]>;
  private readonly listingTx: (server: string, tools: readonly SeenTool[], at: string, session: string) => RecordedListing;
  private readonly approveTx: (server: string, tool: string, at: string) => McpPin | null;
  private readonly resetTx: (server?: string, tool?: string) => number;

  constructor(db: Database) {
    this.getStmt = db.prepare(`SELECT ${COLUMNS} FROM mcp_pins WHERE server = ? AND tool = ?`);
    this.listAllStmt = db.prepare(`SELECT ${COLUMNS} FROM mcp_pins ORDER BY server, tool`);
    this.listServerStmt = db.prepare(`SELECT ${COLUMNS} FROM mcp_pins WHERE server = ? ORDER BY tool`);
    this.serverStmt = db.prepare('SELECT first_session AS firstSession FROM mcp_servers WHERE server = ?');
    this.addServerStmt = db.prepare('INSERT INTO mcp_servers (server, first_listed_at, first_session) VALUES (?, ?, ?)');
    this.seenStmt = db.prepare(
      `INSERT INTO mcp_pins (server, tool, seen_hash, seen_at, seen_definition, flags) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (server, tool) DO UPDATE SET seen_hash = excluded.seen_hash, seen_at = excluded.seen_at,
         seen_definition = excluded.seen_definition, flags = excluded.flags`,
    );
    this.pinSeenStmt = db.prepare(
      'UPDATE mcp_pins SET pinned_hash = seen_hash, pinned_at = ?, pinned_by = ? WHERE server = ? AND tool = ?',
    );
    const deleteAll = db.prepare('DELETE FROM mcp_pins');
    const deleteServers = db.prepare('DELETE FROM mcp_servers');
    const deleteServer = db.prepare('DELETE FROM mcp_pins WHERE server = ?');
    const deleteServerRow = db.prepare('DELETE FROM mcp_servers WHERE server = ?');
    const deleteTool = db.prepare('DELETE FROM mcp_pins WHERE server = ? AND tool = ?');

    const listing = db.transaction((server: string, tools: readonly SeenTool[], at: string, session: string): RecordedListing => {
      const known = this.serverStmt.get(server);
      // Every page the first session lists is part of the first listing (tools/list is paginated).
      const firstListing = known === undefined || known.firstSession === session;
      if (known === undefined) this.addServerStmt.run(server, at, session);
      const pins = tools.map((seen) => {
        this.seenStmt.run(server, seen.tool, seen.hash, at, JSON.stringify(seen.definition), JSON.stringify(seen.flags));
        const row = this.getStmt.get(server, seen.tool)!;
        if (firstListing && seen.flags.length === 0 && row.pinnedHash === null) this.pinSeenStmt.run(at, 'first-sight', server, seen.tool);
        return toPin(this.getStmt.get(server, seen.tool)!);
      });
      return { firstListing, pins };
    });
    this.listingTx = (server, tools, at, session) => listing.immediate(server, tools, at, session);

    const approve = db.transaction((server: string, tool: string, at: string): McpPin | null => {
      if (this.pinSeenStmt.run(at, 'approved', server, tool).changes === 0) return null;
      return toPin(this.getStmt.get(server, tool)!);
    });
    this.approveTx = (server, tool, at) => approve.immediate(server, tool, at);

    const reset = db.transaction((server?: string, tool?: string): number => {
      if (server === undefined) {
        deleteServers.run();
        return deleteAll.run().changes;
      }
      if (tool === undefined) {
        deleteServerRow.run(server);
        return deleteServer.run(server).changes;
      }
      return deleteTool.run(server, tool).changes;
    });
    this.resetTx = (server, tool) => reset.immediate(server, tool);
  }

  async recordListing(server: string, tools: readonly SeenTool[], at: string, session: string): Promise<RecordedListing> {
    return this.listingTx(server, tools, at, session);
  }

  async get(server: string, tool: string): Promise<McpPin | null> {
    const row = this.getStmt.get(server, tool);
    return row === undefined ? null : toPin(row);
  }

  async list(filter: { server?: string } = {}): Promise<McpPin[]> {
    const rows = filter.server === undefined ? this.listAllStmt.all() : this.listServerStmt.all(filter.server);
    return rows.map(toPin);
  }

  async approve(server: string, tool: string, at: string): Promise<McpPin | null> {
    return this.approveTx(server, tool, at);
  }

  async reset(server?: string, tool?: string): Promise<number> {
    return this.resetTx(server, tool);
  }
}

export function toPin(row: PinRow): McpPin {
  // A hand-edited pin origin reads as no pin at all: the tool is then blocked until approved again (fail closed).
  const pinnedBy: PinOrigin | null = row.pinnedBy === 'first-sight' || row.pinnedBy === 'approved' ? row.pinnedBy : null;
  return {
    server: row.server,
    tool: row.tool,
    pinnedHash: pinnedBy === null ? null : row.pinnedHash,
    pinnedAt: pinnedBy === null ? null : row.pinnedAt,
    pinnedBy,
    seenHash: row.seenHash,
    seenAt: row.seenAt,
    seen: jsonColumn<Record<string, unknown>>(row.seen, {}, isPlainObject),
    // Flags that cannot be read count as one: the tool stays blocked rather than trusted.
    flags: jsonColumn<PinFlag[]>(row.flags, [{ type: 'unreadable', message: 'the stored flags of this tool cannot be read' }], isFlags),
  };
}
