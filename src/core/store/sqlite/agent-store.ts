import type { Database, Statement } from 'better-sqlite3';
import { registeredEntry, registeredId, scannedEntry } from '../../agents/registration.js';
import { maskStrings } from '../../agents/report-mask.js';
import type {
  AgentEntry,
  AgentFilter,
  AgentFramework,
  AgentKind,
  AgentRegistration,
  AgentRegistry,
  AgentSource,
  AgentSummary,
  ScanCoverage,
  ScannedAgent,
} from '../../agents/registry.js';
import type { Coverage, Risk } from '../../agents/finding-types.js';
import { isStrings, jsonColumn } from './json-column.js';
import { isPlainObject } from '../../plain-object.js';

interface AgentRow {
  id: string;
  kind: string;
  name: string;
  framework: string;
  location: string | null;
  status: string;
  risk: string;
  source: string;
  firstSeen: string;
  lastSeen: string;
  details: string;
  notes: string;
  registeredAgentId: string | null;
  deregisteredAt: string | null;
  goneAt: string | null;
}

export const COLUMNS = `id, kind, name, framework, location, status, risk, source, first_seen AS firstSeen, last_seen AS lastSeen,
  details, notes, registered_agent_id AS registeredAgentId, deregistered_at AS deregisteredAt, gone_at AS goneAt`;

export const COVERAGES = new Set<string>(['secured', 'unsecured', 'unknown']);
export const RISKS = new Set<string>(['high', 'medium', 'low', 'info']);
const ISO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$/;

/**
 * The agent registry in SQLite (table `agents`, migration 4). Every write runs in one `BEGIN IMMEDIATE` transaction
 * that reads the current row first, so a scan and a `agents register` running at once cannot lose each other's fields.
 */
export class SqliteAgentStore implements AgentRegistry {
  private readonly getStmt: Statement<[string], AgentRow>;
  private readonly writeStmt: Statement<unknown[]>;
  private readonly deregisterStmt: Statement<[string, string]>;
  private readonly listStmt: Statement<[string | null, string | null, number, number], AgentRow>;
  private readonly countStmt: Statement<[], { status: string; n: number }>;
  private readonly presentOfKindStmt: Statement<[string], { id: string }>;
  private readonly goneStmt: Statement<[string, string]>;
  private readonly upsertTx: (findings: ScannedAgent[], seenAt: string, coverage?: ScanCoverage) => { added: string[]; updated: string[]; gone: string[] };
  private readonly registerTx: (entry: AgentRegistration, at: string) => AgentEntry;
  private readonly deregisterTx: (id: string, at: string) => boolean;

  constructor(db: Database) {
    this.getStmt = db.prepare(`SELECT ${COLUMNS} FROM agents WHERE id = ?`);
    this.writeStmt = db.prepare(
      `INSERT INTO agents (id, kind, name, framework, location, status, risk, source, first_seen, last_seen, details, notes, registered_agent_id, deregistered_at, gone_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, name = excluded.name, framework = excluded.framework, location = excluded.location,
         status = excluded.status, risk = excluded.risk, source = excluded.source, first_seen = excluded.first_seen, last_seen = excluded.last_seen,
         details = excluded.details, notes = excluded.notes, registered_agent_id = excluded.registered_agent_id, deregistered_at = excluded.deregistered_at,
         gone_at = excluded.gone_at`,
    );
    this.deregisterStmt = db.prepare('UPDATE agents SET deregistered_at = ? WHERE id = ? AND deregistered_at IS NULL');
    this.listStmt = db.prepare(
      `SELECT ${COLUMNS} FROM agents WHERE (? IS NULL OR status = ?) AND (? = 1 OR deregistered_at IS NULL) AND (? = 1 OR gone_at IS NULL)
       ORDER BY last_seen DESC, id`,
    );
    this.countStmt = db.prepare('SELECT status, count(*) AS n FROM agents WHERE deregistered_at IS NULL AND gone_at IS NULL GROUP BY status');
    this.presentOfKindStmt = db.prepare("SELECT id FROM agents WHERE kind = ? AND source = 'scan' AND gone_at IS NULL");
    this.goneStmt = db.prepare('UPDATE agents SET gone_at = ? WHERE id = ? AND gone_at IS NULL');

    const upsert = db.transaction((findings: ScannedAgent[], seenAt: string, coverage?: ScanCoverage) => {
      const added: string[] = [];
      const updated: string[] = [];
      const reported = new Set<string>();
      for (const unmasked of findings) {
        // The registry stores what a report may show: masked here too, whoever the caller.
        const finding = maskStrings(unmasked);
        const current = this.read(finding.id);
        this.write(scannedEntry(finding, current, seenAt));
        if (reported.has(finding.id)) continue;
        reported.add(finding.id);
        (current === null ? added : updated).push(finding.id);
      }
      // A process this scan would have seen and did not has exited: it is gone, and no longer counted.
      const gone: string[] = [];
      for (const kind of new Set(coverage?.completeKinds ?? [])) {
        for (const { id } of this.presentOfKindStmt.all(kind)) {
          if (reported.has(id) || coverage?.notInspected?.some((prefix) => id.startsWith(prefix))) continue;
          if (this.goneStmt.run(seenAt, id).changes > 0) gone.push(id);
        }
      }
      return { added, updated, gone };
    });
    this.upsertTx = (findings, seenAt, coverage) => upsert.immediate(findings, seenAt, coverage);

    const register = db.transaction((registration: AgentRegistration, at: string): AgentEntry => {
      const id = registeredId(registration.name);
      const current = this.read(id);
      const entry = registeredEntry(registration, current, at);
      this.write(entry);
      return entry;
    });
    this.registerTx = (registration, at) => register.immediate(registration, at);

    const deregister = db.transaction((id: string, at: string) => this.deregisterStmt.run(at, id).changes > 0 || this.getStmt.get(id) !== undefined);
    this.deregisterTx = (id, at) => deregister.immediate(id, at);
  }

  async upsertFromScan(findings: ScannedAgent[], seenAt: string, coverage?: ScanCoverage): Promise<{ added: string[]; updated: string[]; gone: string[] }> {
    checkTime(seenAt, 'seenAt');
    for (const finding of findings) {
      if (!COVERAGES.has(finding.status) || !RISKS.has(finding.risk)) throw new TypeError(`finding ${finding.id}: invalid status or risk`);
    }
    return this.upsertTx(findings, seenAt, coverage);
  }

  async register(entry: AgentRegistration, at: string): Promise<AgentEntry> {
    checkTime(at, 'at');
    if (entry.status !== undefined && !COVERAGES.has(entry.status)) throw new TypeError(`invalid status ${String(entry.status)}`);
    return this.registerTx(entry, at);
  }

  async deregister(id: string, at: string): Promise<boolean> {
    checkTime(at, 'at');
    return this.deregisterTx(id, at);
  }

  async list(filter: AgentFilter = {}): Promise<AgentEntry[]> {
    const status = filter.status ?? null;
    return this.listStmt.all(status, status, filter.includeDeregistered === true ? 1 : 0, filter.includeGone === true ? 1 : 0).map(toEntry);
  }

  async get(id: string): Promise<AgentEntry | null> {
    return this.read(id);
  }

  async summary(): Promise<AgentSummary> {
    const counts: Record<Coverage, number> = { secured: 0, unsecured: 0, unknown: 0 };
    for (const { status, n } of this.countStmt.all()) {
      // A status this version does not know (a hand-edited row) counts as unknown.
      counts[COVERAGES.has(status) ? (status as Coverage) : 'unknown'] += n;
    }
    const known = counts.secured + counts.unsecured;
    return { total: known + counts.unknown, ...counts, coverage: known === 0 ? null : counts.secured / known };
  }

  private read(id: string): AgentEntry | null {
    const row = this.getStmt.get(id);
    return row === undefined ? null : toEntry(row);
  }

  private write(e: AgentEntry): void {
    this.writeStmt.run(
      e.id,
      e.kind,
      e.name,
      JSON.stringify(e.frameworks.map((f) => (f.version === undefined ? { name: f.name } : { name: f.name, version: f.version }))),
      e.location,
      e.status,
      e.risk,
      e.source,
      e.firstSeen,
      e.lastSeen,
      JSON.stringify(e.details),
      JSON.stringify(e.notes),
      e.registeredAgentId,
      e.deregisteredAt,
      e.goneAt,
    );
  }
}

export function checkTime(value: string, what: string): void {
  if (!ISO_TIME.test(value) || Number.isNaN(Date.parse(value))) throw new TypeError(`${what} must be an ISO 8601 UTC time, got ${JSON.stringify(value)}`);
}

/** Rows written before masking reached the registry are masked on the way out as well. */
export function toEntry(row: AgentRow): AgentEntry {
  return maskStrings({
    id: row.id,
    kind: row.kind as AgentKind,
    name: row.name,
    frameworks: jsonColumn<AgentFramework[]>(row.framework, [], (v) => Array.isArray(v) && v.every((f) => isPlainObject(f) && typeof (f as { name?: unknown }).name === 'string')),
    location: row.location,
    status: COVERAGES.has(row.status) ? (row.status as Coverage) : 'unknown',
    risk: RISKS.has(row.risk) ? (row.risk as Risk) : 'info',
    source: row.source as AgentSource,
    firstSeen: row.firstSeen,
    lastSeen: row.lastSeen,
    details: jsonColumn<Record<string, unknown>>(row.details, {}, isPlainObject),
    notes: jsonColumn<string[]>(row.notes, [], isStrings),
    registeredAgentId: row.registeredAgentId,
    deregisteredAt: row.deregisteredAt,
    goneAt: row.goneAt,
  });
}
