import type { McpPin, McpPinStore, RecordedListing, SeenTool } from '../../mcp-pins/types.js';
import { COLUMNS, toPin } from '../sqlite/mcp-pin-store.js';
import { quoteAliases, type PgDatabase, type Tx } from './connection.js';

const COLS = quoteAliases(COLUMNS);

/**
 * MCP tool pins in PostgreSQL. A listing is recorded in one transaction holding an advisory lock on the server's name,
 * so two gateways (on any hosts) listing a new server at once agree on which listing was the first.
 */
export class PostgresMcpPinStore implements McpPinStore {
  constructor(private readonly db: PgDatabase) {}

  async recordListing(server: string, tools: readonly SeenTool[], at: string, session: string): Promise<RecordedListing> {
    return this.db.transaction(async (tx) => {
      await tx.query("SELECT pg_advisory_xact_lock(hashtextextended('agentguard.mcp.' || $1, 0))", [server]);
      const known = (await tx.query<{ firstSession: string | null }>('SELECT first_session AS "firstSession" FROM mcp_servers WHERE server = $1', [server]))[0];
      const firstListing = known === undefined || known.firstSession === session;
      if (known === undefined) await tx.query('INSERT INTO mcp_servers (server, first_listed_at, first_session) VALUES ($1, $2, $3)', [server, at, session]);
      const pins: McpPin[] = [];
      for (const seen of tools) {
        await tx.query(
          `INSERT INTO mcp_pins (server, tool, seen_hash, seen_at, seen_definition, flags) VALUES ($1, $2, $3, $4, $5, $6)
           ON CONFLICT (server, tool) DO UPDATE SET seen_hash = excluded.seen_hash, seen_at = excluded.seen_at,
             seen_definition = excluded.seen_definition, flags = excluded.flags`,
          [server, seen.tool, seen.hash, at, JSON.stringify(seen.definition), JSON.stringify(seen.flags)],
        );
        if (firstListing && seen.flags.length === 0) {
          await tx.query("UPDATE mcp_pins SET pinned_hash = seen_hash, pinned_at = $1, pinned_by = 'first-sight' WHERE server = $2 AND tool = $3 AND pinned_hash IS NULL", [at, server, seen.tool]);
        }
        pins.push((await get(tx, server, seen.tool))!);
      }
      return { firstListing, pins };
    });
  }

  async get(server: string, tool: string): Promise<McpPin | null> {
    return get(this.db, server, tool);
  }

  async list(filter: { server?: string } = {}): Promise<McpPin[]> {
    const rows =
      filter.server === undefined
        ? await this.db.query(`SELECT ${COLS} FROM mcp_pins ORDER BY server, tool`)
        : await this.db.query(`SELECT ${COLS} FROM mcp_pins WHERE server = $1 ORDER BY tool`, [filter.server]);
    return rows.map((row) => toPin(row as never));
  }

  async approve(server: string, tool: string, at: string): Promise<McpPin | null> {
    const rows = await this.db.query(
      `UPDATE mcp_pins SET pinned_hash = seen_hash, pinned_at = $1, pinned_by = 'approved' WHERE server = $2 AND tool = $3 RETURNING ${COLS}`,
      [at, server, tool],
    );
    return rows[0] === undefined ? null : toPin(rows[0] as never);
  }

  async reset(server?: string, tool?: string): Promise<number> {
    return this.db.transaction(async (tx) => {
      if (server === undefined) {
        await tx.query('DELETE FROM mcp_servers');
        return (await tx.query('DELETE FROM mcp_pins RETURNING 1')).length;
      }
      if (tool === undefined) {
        await tx.query('DELETE FROM mcp_servers WHERE server = $1', [server]);
        return (await tx.query('DELETE FROM mcp_pins WHERE server = $1 RETURNING 1', [server])).length;
      }
      return (await tx.query('DELETE FROM mcp_pins WHERE server = $1 AND tool = $2 RETURNING 1', [server, tool])).length;
    });
  }
}

async function get(db: Pick<Tx, 'query'>, server: string, tool: string): Promise<McpPin | null> {
  const row = (await db.query(`SELECT ${COLS} FROM mcp_pins WHERE server = $1 AND tool = $2`, [server, tool]))[0];
  return row === undefined ? null : toPin(row as never);
}
