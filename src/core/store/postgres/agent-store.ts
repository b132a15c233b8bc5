import { registeredEntry, registeredId, scannedEntry } from '../../agents/registration.js';
import { maskStrings } from '../../agents/report-mask.js';
import type { AgentEntry, AgentFilter, AgentRegistration, AgentRegistry, AgentSummary, ScanCoverage, ScannedAgent } from '../../agents/registry.js';
import type { Coverage } from '../../agents/finding-types.js';
import { checkTime, COLUMNS, COVERAGES, RISKS, toEntry } from '../sqlite/agent-store.js';
import { quoteAliases, type PgDatabase, type Tx } from './connection.js';

const COLS = quoteAliases(COLUMNS);
/** Writers of the registry take this advisory lock, so a scan and `agents register` on two hosts cannot lose each other's fields. */
const LOCK = "SELECT pg_advisory_xact_lock(hashtextextended('agentguard.agents', 0))";

/** The agent registry in PostgreSQL; every write is a transaction that reads the current row under the registry lock. */
export class PostgresAgentStore implements AgentRegistry {
  constructor(private readonly db: PgDatabase) {}

  async upsertFromScan(findings: ScannedAgent[], seenAt: string, coverage?: ScanCoverage): Promise<{ added: string[]; updated: string[]; gone: string[] }> {
    checkTime(seenAt, 'seenAt');
    for (const finding of findings) {
      if (!COVERAGES.has(finding.status) || !RISKS.has(finding.risk)) throw new TypeError(`finding ${finding.id}: invalid status or risk`);
    }
    return this.db.transaction(async (tx) => {
      await tx.query(LOCK);
      const added: string[] = [];
      const updated: string[] = [];
      const reported = new Set<string>();
      for (const unmasked of findings) {
        const finding = maskStrings(unmasked);
        const current = await read(tx, finding.id);
        await write(tx, scannedEntry(finding, current, seenAt));
        if (reported.has(finding.id)) continue;
        reported.add(finding.id);
        (current === null ? added : updated).push(finding.id);
      }
      const gone: string[] = [];
      for (const kind of new Set(coverage?.completeKinds ?? [])) {
        const present = await tx.query<{ id: string }>("SELECT id FROM agents WHERE kind = $1 AND source = 'scan' AND gone_at IS NULL", [kind]);
        for (const { id } of present) {
          if (reported.has(id) || coverage?.notInspected?.some((prefix) => id.startsWith(prefix))) continue;
          if ((await tx.query('UPDATE agents SET gone_at = $1 WHERE id = $2 AND gone_at IS NULL RETURNING id', [seenAt, id])).length > 0) gone.push(id);
        }
      }
      return { added, updated, gone };
    });
  }

  async register(registration: AgentRegistration, at: string): Promise<AgentEntry> {
    checkTime(at, 'at');
    if (registration.status !== undefined && !COVERAGES.has(registration.status)) throw new TypeError(`invalid status ${String(registration.status)}`);
    return this.db.transaction(async (tx) => {
      await tx.query(LOCK);
      const id = registeredId(registration.name);
      const current = await read(tx, id);
      const entry = registeredEntry(registration, current, at);
      await write(tx, entry);
      return entry;
    });
  }

  async deregister(id: string, at: string): Promise<boolean> {
    checkTime(at, 'at');
    const changed = await this.db.query('UPDATE agents SET deregistered_at = $1 WHERE id = $2 AND deregistered_at IS NULL RETURNING id', [at, id]);
    return changed.length > 0 || (await this.get(id)) !== null;
  }

  async list(filter: AgentFilter = {}): Promise<AgentEntry[]> {
    const rows = await this.db.query(
      `SELECT ${COLS} FROM agents WHERE ($1::text IS NULL OR status = $1) AND ($2 OR deregistered_at IS NULL) AND ($3 OR gone_at IS NULL)
       ORDER BY last_seen DESC, id`,
      [filter.status ?? null, filter.includeDeregistered === true, filter.includeGone === true],
    );
    return rows.map((row) => toEntry(row as never));
  }

  async get(id: string): Promise<AgentEntry | null> {
    return read(this.db, id);
  }

  async summary(): Promise<AgentSummary> {
    const counts: Record<Coverage, number> = { secured: 0, unsecured: 0, unknown: 0 };
    const rows = await this.db.query<{ status: string; n: number }>('SELECT status, count(*)::int AS n FROM agents WHERE deregistered_at IS NULL AND gone_at IS NULL GROUP BY status');
    for (const { status, n } of rows) counts[COVERAGES.has(status) ? (status as Coverage) : 'unknown'] += n;
    const known = counts.secured + counts.unsecured;
    return { total: known + counts.unknown, ...counts, coverage: known === 0 ? null : counts.secured / known };
  }
}

async function read(db: Pick<Tx, 'query'>, id: string): Promise<AgentEntry | null> {
  const row = (await db.query(`SELECT ${COLS} FROM agents WHERE id = $1`, [id]))[0];
  return row === undefined ? null : toEntry(row as never);
}

async function write(tx: Tx, e: AgentEntry): Promise<void> {
  await tx.query(
    `INSERT INTO agents (id, kind, name, framework, location, status, risk, source, first_seen, last_seen, details, notes, registered_agent_id, deregistered_at, gone_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
     ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, name = excluded.name, framework = excluded.framework, location = excluded.location,
       status = excluded.status, risk = excluded.risk, source = excluded.source, first_seen = excluded.first_seen, last_seen = excluded.last_seen,
       details = excluded.details, notes = excluded.notes, registered_agent_id = excluded.registered_agent_id, deregistered_at = excluded.deregistered_at,
       gone_at = excluded.gone_at`,
    [
      e.id, e.kind, e.name,
      JSON.stringify(e.frameworks.map((f) => (f.version === undefined ? { name: f.name } : { name: f.name, version: f.version }))),
      e.location, e.status, e.risk, e.source, e.firstSeen, e.lastSeen, JSON.stringify(e.details), JSON.stringify(e.notes), e.registeredAgentId,
      e.deregisteredAt, e.goneAt,
    ],
  );
}
