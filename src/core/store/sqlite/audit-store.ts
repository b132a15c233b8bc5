import type { Database, Statement } from 'better-sqlite3';
import { canonicalRecordText, encodeEntry, GENESIS_HASH, hashText, type EncodedEntry } from '../../audit/chain.js';
import type { AuditEntry, AuditQuery, AuditRecord, Checkpoint } from '../../audit/types.js';
import { AgentGuardError } from '../../errors.js';
import type { AuditStore, StoredAuditRow } from '../store.js';

const ROW_COLUMNS =
  'seq, time, type, agent_id AS agentId, decision_id AS decisionId, effect, rules, data, prev_hash AS prevHash, hash';
const MIN_SEQ = -(2n ** 63n);
const DEFAULT_PAGE = 2048;

/**
 * The audit log in SQLite. Appends run in `BEGIN IMMEDIATE` transactions: the head is read, the records chained and
 * inserted, and the transaction committed while holding the write lock, so concurrent writers (other connections,
 * other processes) each extend the chain they saw and one valid chain results.
 */
export class SqliteAuditStore implements AuditStore {
  private readonly db: Database;
  private readonly headStmt: Statement<[], { seq: number; hash: string }>;
  private readonly insertStmt: Statement;
  private readonly firstPageStmt: Statement;
  private readonly nextPageStmt: Statement;
  private readonly appendTx: (entries: EncodedEntry[]) => AuditRecordColumns[];

  constructor(db: Database) {
    this.db = db;
    this.headStmt = db.prepare('SELECT seq, hash FROM audit_records ORDER BY seq DESC LIMIT 1');
    this.insertStmt = db.prepare(
      'INSERT INTO audit_records (seq, time, type, agent_id, decision_id, effect, rules, data, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    );
    // safeIntegers: a tampered seq beyond 2^53 must not be rounded, or paging could loop or skip rows.
    // Raw arrays, turned into objects below: about twice as fast as better-sqlite3's own row objects.
    this.firstPageStmt = db.prepare(`SELECT ${ROW_COLUMNS} FROM audit_records WHERE seq >= ? ORDER BY seq LIMIT ?`).safeIntegers(true).raw(true);
    this.nextPageStmt = db.prepare(`SELECT ${ROW_COLUMNS} FROM audit_records WHERE seq > ? ORDER BY seq LIMIT ?`).safeIntegers(true).raw(true);
    const tx = db.transaction((entries: EncodedEntry[]) => {
      const head = this.headStmt.get();
      let seq = head?.seq ?? 0;
      let prevHash = head?.hash ?? GENESIS_HASH;
      const out: AuditRecordColumns[] = [];
      for (const entry of entries) {
        seq++;
        const columns = { ...entry, seq, prevHash };
        const hash = hashText(prevHash, canonicalRecordText(columns));
        this.insertStmt.run(seq, entry.time, entry.type, entry.agentId, entry.decisionId, entry.effect, entry.rules, entry.data, prevHash, hash);
        out.push({ seq, prevHash, hash });
        prevHash = hash;
      }
      return out;
    });
    this.appendTx = (entries) => tx.immediate(entries);
  }

  /**
   * Appends entries as one transaction. The returned records carry the caller's `data` and `rules` objects; what is
   * stored and hashed is their canonical JSON. With `synchronous = NORMAL` in WAL mode a resolved append survives a
   * crash of the process, but the last transactions can be lost on power failure or an OS crash.
   */
  async append(entries: AuditEntry[]): Promise<AuditRecord[]> {
    if (entries.length === 0) return [];
    // Validate and serialise before taking the write lock, so the lock is held only for the chaining itself.
    const encoded = entries.map((entry, i) => encodeEntry(entry, i));
    const placed = this.appendTx(encoded);
    return entries.map((entry, i) => ({
      seq: placed[i].seq,
      type: entry.type,
      time: entry.time,
      agentId: encoded[i].agentId,
      decisionId: encoded[i].decisionId,
      effect: entry.effect,
      rules: entry.rules,
      data: entry.data,
      prevHash: placed[i].prevHash,
      hash: placed[i].hash,
    }));
  }

  async head(): Promise<{ seq: number; hash: string } | null> {
    return this.headStmt.get() ?? null;
  }

  async count(): Promise<number> {
    return (this.db.prepare('SELECT count(*) AS n FROM audit_records').get() as { n: number }).n;
  }

  async query(filter: AuditQuery): Promise<AuditRecord[]> {
    const where: string[] = [];
    const params: Record<string, unknown> = {};
    if (filter.agent !== undefined) (where.push('agent_id = @agent'), (params.agent = filter.agent));
    if (filter.effect !== undefined) (where.push('effect = @effect'), (params.effect = filter.effect));
    if (filter.type !== undefined) (where.push('type = @type'), (params.type = filter.type));
    if (filter.decisionId !== undefined) (where.push('decision_id = @decisionId'), (params.decisionId = filter.decisionId));
    if (filter.since !== undefined) (where.push('time >= @since'), (params.since = isoTime(filter.since, 'since')));
    if (filter.until !== undefined) (where.push('time < @until'), (params.until = isoTime(filter.until, 'until')));
    if (filter.afterSeq !== undefined) (where.push('seq > @afterSeq'), (params.afterSeq = filter.afterSeq));
    if (filter.rule !== undefined) {
      // No index can serve "array contains"; the other filters narrow the rows first. json_valid guards against a
      // tampered rules column making the whole query fail.
      where.push('CASE WHEN json_valid(rules) THEN EXISTS (SELECT 1 FROM json_each(audit_records.rules) WHERE value = @rule) ELSE 0 END');
      params.rule = filter.rule;
    }
    if (filter.limit !== undefined && (!Number.isSafeInteger(filter.limit) || filter.limit < 0)) {
      throw new AgentGuardError('AUDIT_QUERY_INVALID', `limit must be a whole number >= 0, got ${filter.limit}`, { exitCode: 2 });
    }
    const order = filter.order === 'asc' ? 'ASC' : 'DESC';
    const sql =
      `SELECT ${ROW_COLUMNS} FROM audit_records` +
      (where.length > 0 ? ` WHERE ${where.join(' AND ')}` : '') +
      ` ORDER BY seq ${order}` +
      (filter.limit !== undefined ? ` LIMIT ${filter.limit}` : '');
    const rows = this.db.prepare(sql).all(params) as StoredAuditRow[];
    return rows.map((row) => {
      const parsed = parseRow(row);
      if ('error' in parsed) {
        throw new AgentGuardError('AUDIT_RECORD_UNREADABLE', `audit record ${parsed.seq} cannot be read: ${parsed.error}`, {
          actions: ['Run `agentguard audit verify`: the log may have been tampered with.'],
          exitCode: 2,
        });
      }
      return parsed;
    });
  }

  async *rows(options: { fromSeq?: number; pageSize?: number } = {}): AsyncIterable<StoredAuditRow[]> {
    const pageSize = options.pageSize ?? DEFAULT_PAGE;
    let raw = this.firstPageStmt.all(options.fromSeq === undefined ? MIN_SEQ : BigInt(Math.ceil(options.fromSeq)), pageSize) as unknown[][];
    while (raw.length > 0) {
      const cursor = raw[raw.length - 1][0];
      yield raw.map(toStoredRow);
      if (raw.length < pageSize) return;
      raw = this.nextPageStmt.all(cursor, pageSize) as unknown[][];
    }
  }

  async *scan(fromSeq?: number): AsyncIterable<AuditRecord | { seq: number; raw: string; error: string }> {
    for await (const page of this.rows({ fromSeq })) {
      for (const row of page) yield parseRow(row);
    }
  }

  async addCheckpoint(checkpoint: Checkpoint): Promise<void> {
    this.db
      .prepare('INSERT INTO audit_checkpoints (seq, hash, time, key_id, signature) VALUES (?, ?, ?, ?, ?)')
      .run(checkpoint.seq, checkpoint.hash, checkpoint.time, checkpoint.keyId, checkpoint.signature);
  }

  async checkpoints(): Promise<Checkpoint[]> {
    return this.db
      .prepare('SELECT seq, hash, time, key_id AS keyId, signature FROM audit_checkpoints ORDER BY seq, id')
      .all() as Checkpoint[];
  }
}

function toStoredRow(r: unknown[]): StoredAuditRow {
  const seq = r[0] as bigint;
  return {
    seq: seq >= -9007199254740991n && seq <= 9007199254740991n ? Number(seq) : seq,
    time: r[1],
    type: r[2],
    agentId: r[3],
    decisionId: r[4],
    effect: r[5],
    rules: r[6],
    data: r[7],
    prevHash: r[8],
    hash: r[9],
  };
}

interface AuditRecordColumns {
  seq: number;
  prevHash: string;
  hash: string;
}

function isoTime(value: string, field: string): string {
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) {
    throw new AgentGuardError('AUDIT_QUERY_INVALID', `${field}: "${value}" is not a date or time`, {
      actions: ['Use ISO 8601, for example 2025-01-31 or 2025-01-31T14:00:00Z.'],
      exitCode: 2,
    });
  }
  return new Date(ms).toISOString();
}

/** A stored row as an AuditRecord, or why it cannot be one. */
export function parseRow(row: StoredAuditRow): AuditRecord | { seq: number; raw: string; error: string } {
  const seq = Number(row.seq);
  const fail = (error: string) => ({ seq, raw: JSON.stringify(row, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)), error });
  if (typeof row.seq !== 'number') return fail('seq is out of range');
  for (const field of ['time', 'type', 'rules', 'data', 'prevHash', 'hash'] as const) {
    if (typeof row[field] !== 'string') return fail(`${field} is not text`);
  }
  for (const field of ['agentId', 'decisionId', 'effect'] as const) {
    if (row[field] !== null && typeof row[field] !== 'string') return fail(`${field} is not text`);
  }
  let rules: unknown;
  let data: unknown;
  try {
    rules = JSON.parse(row.rules as string);
    data = JSON.parse(row.data as string);
  } catch (error) {
    return fail(`rules or data is not JSON (${(error as Error).message})`);
  }
  if (!Array.isArray(rules) || rules.some((r) => typeof r !== 'string')) return fail('rules is not an array of strings');
  if (data === null || typeof data !== 'object' || Array.isArray(data)) return fail('data is not an object');
  return {
    seq,
    time: row.time as string,
    type: row.type as AuditRecord['type'],
    agentId: row.agentId as string | null,
    decisionId: row.decisionId as string | null,
    effect: row.effect as AuditRecord['effect'],
    rules: rules as string[],
    data: data as Record<string, unknown>,
    prevHash: row.prevHash as string,
    hash: row.hash as string,
  };
}
