import type { Database, Statement } from 'better-sqlite3';
import { appendedRecords, canonicalRecordText, encodeEntry, GENESIS_HASH, hashText, MISALIGNED_MARKER, type EncodedEntry } from '../../audit/chain.js';
import { checkpointEntry } from '../../audit/checkpoint.js';
import type { AuditEntry, AuditQuery, AuditRecord, Checkpoint } from '../../audit/types.js';
import { AgentGuardError } from '../../errors.js';
import type { AuditStore, HashedAuditRow, SignHead, StoredAuditRow } from '../store.js';

const ROW_COLUMNS =
  'seq, time, type, agent_id AS agentId, decision_id AS decisionId, effect, rules, data, prev_hash AS prevHash, hash';
const CHECKPOINT_COLUMNS = 'seq, hash, time, key_id AS keyId, signature, n, prev, interval_ms AS intervalMs, reason';
const MIN_SEQ = -(2n ** 63n);
const DEFAULT_PAGE = 2048;
// Smaller pages for the fast path: its rows die young, and 2048-row pages outlive the young generation of the GC.
const HASHED_PAGE = 512;

// The canonical record text (canonicalRecordText) built by SQLite, for verification: one string per row instead of ten
// values is most of verification's speed. json_quote is JSON.stringify for text and 'null' for NULL (checked once per
// connection, see hashedRows). Text that is not well-formed UTF-8 decodes the same whole as column by column, because
// every column is followed by ASCII, where a decoder ends a broken sequence. The CASE leaves every row whose columns do
// not have their declared types (or that fails columnsAligned) to the slow path.
const SAFE_SEQ = 'seq BETWEEN -9007199254740991 AND 9007199254740991';
const HASHED_TEXT =
  `concat('{"agentId":', json_quote(agent_id), ',"data":', data, ',"decisionId":', json_quote(decision_id),` +
  ` ',"effect":', json_quote(effect), ',"prevHash":', json_quote(prev_hash), ',"rules":', rules,` +
  ` ',"seq":', seq, ',"time":', json_quote(time), ',"type":', json_quote(type), '}')`;
const HASHABLE =
  `${SAFE_SEQ} AND typeof(time) = 'text' AND typeof(type) = 'text' AND typeof(agent_id) IN ('text', 'null')` +
  ` AND typeof(decision_id) IN ('text', 'null') AND typeof(effect) IN ('text', 'null') AND typeof(rules) = 'text'` +
  ` AND typeof(data) = 'text' AND typeof(prev_hash) = 'text' AND instr(rules, '${MISALIGNED_MARKER}') = 0`;
// seq as a number, or as text when a number would round it (converted to a bigint below).
const HASHED_COLUMNS = `CASE WHEN ${SAFE_SEQ} THEN seq ELSE CAST(seq AS TEXT) END, prev_hash, hash, CASE WHEN ${HASHABLE} THEN ${HASHED_TEXT} END`;
// Every character that JSON escapes, some it does not, and bytes that are not UTF-8 next to ones it escapes, to check
// that json_quote quotes like JSON.stringify, also in text that is not well-formed.
const QUOTE_PROBE = Buffer.concat([
  Buffer.from(Array.from({ length: 128 }, (_, i) => String.fromCharCode(i)).join('') + '\u00e9\u2028\u2029\ufffd\u{1f600}'),
  Buffer.from([0xff, 0x22, 0xc3, 0x5c, 0xe2, 0x82, 0x0a, 0xed, 0xa0, 0x80, 0x80, 0xf0, 0x9f, 0x98, 0x22, 0xc0, 0xaf, 0xe2, 0x82]),
]);

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
  private readonly appendTx: (entries: EncodedEntry[], alongside: (() => void) | undefined) => AuditRecordColumns[];
  private readonly lastCheckpointStmt: Statement<[], Record<string, unknown>>;
  private checkpointStmts: { latestLinked: Statement<[], CheckpointRow>; latestLegacy: Statement<[], CheckpointRow>; insert: Statement } | undefined;
  private readonly signHeadTx: (sign: SignHead) => Checkpoint | null;
  private hashedPageStmt: Statement | null | undefined;

  constructor(db: Database) {
    this.db = db;
    this.headStmt = db.prepare('SELECT seq, hash FROM audit_records ORDER BY seq DESC LIMIT 1');
    this.insertStmt = db.prepare(
      'INSERT INTO audit_records (seq, time, type, agent_id, decision_id, effect, rules, data, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    );
    // `*`, not the linked columns by name: appends also work on a database migrated no further than schema 1.
    this.lastCheckpointStmt = db.prepare('SELECT * FROM audit_checkpoints ORDER BY id DESC LIMIT 1');
    // safeIntegers: a tampered seq beyond 2^53 must not be rounded, or paging could loop or skip rows.
    // Raw arrays, turned into objects below: about twice as fast as better-sqlite3's own row objects.
    this.firstPageStmt = db.prepare(`SELECT ${ROW_COLUMNS} FROM audit_records WHERE seq >= ? ORDER BY seq LIMIT ?`).safeIntegers(true).raw(true);
    this.nextPageStmt = db.prepare(`SELECT ${ROW_COLUMNS} FROM audit_records WHERE seq > ? ORDER BY seq LIMIT ?`).safeIntegers(true).raw(true);
    const tx = db.transaction((entries: EncodedEntry[], alongside: (() => void) | undefined) => {
      const head = this.headStmt.get();
      let seq = head?.seq ?? 0;
      let prevHash = head?.hash ?? GENESIS_HASH;
      const insert = (entry: EncodedEntry): AuditRecordColumns => {
        seq++;
        const columns = { ...entry, seq, prevHash };
        const hash = hashText(prevHash, canonicalRecordText(columns));
        this.insertStmt.run(seq, entry.time, entry.type, entry.agentId, entry.decisionId, entry.effect, entry.rules, entry.data, prevHash, hash);
        const placed = { seq, prevHash, hash };
        prevHash = hash;
        return placed;
      };
      // The latest checkpoint signed the head and is not in the chain yet: it goes first, so these records (and every
      // later checkpoint) commit to it. A checkpoint deleted from its table is then still named by the chain.
      // Checkpoints are stored in number order (signHead holds the write lock), so the last row is the latest.
      const latest = this.lastCheckpointStmt.get();
      if (latest && typeof latest.n === 'number' && latest.seq === seq) insert(encodeEntry(checkpointEntry(checkpointOf(fromStarRow(latest))), 0, true));
      const out = entries.map(insert);
      alongside?.();
      return out;
    });
    this.appendTx = (entries, alongside) => tx.immediate(entries, alongside);
    const signTx = db.transaction((sign: SignHead) => {
      const head = this.headStmt.get() ?? null;
      const stmts = this.checkpointStatements();
      const latest = stmts.latestLinked.get() ?? stmts.latestLegacy.get();
      const checkpoint = sign(head, latest ? checkpointOf(latest) : null);
      if (checkpoint) this.insertCheckpoint(checkpoint);
      return checkpoint;
    });
    this.signHeadTx = (sign) => signTx.immediate(sign);
  }

  /**
   * Appends entries as one transaction. The returned records carry the caller's `data` and `rules` objects; what is
   * stored and hashed is their canonical JSON. With `synchronous = NORMAL` in WAL mode a resolved append survives a
   * crash of the process, but the last transactions can be lost on power failure or an OS crash.
   */
  async append(entries: AuditEntry[], alongside?: () => void): Promise<AuditRecord[]> {
    if (entries.length === 0) return [];
    // Validate and serialise before taking the write lock, so the lock is held only for the chaining itself.
    const encoded = entries.map((entry, i) => encodeEntry(entry, i));
    const placed = this.appendTx(encoded, alongside);
    return appendedRecords(entries, encoded, placed);
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
      throw new AgentGuardError('AUDIT_QUERY_INVALID', `limit must be a whole number >= 0, got ${filter.limit}`);
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
        });
      }
      return parsed;
    });
  }

  async *rows(options: { fromSeq?: number | bigint; pageSize?: number } = {}): AsyncIterable<StoredAuditRow[]> {
    const pageSize = options.pageSize ?? DEFAULT_PAGE;
    const from = options.fromSeq;
    let raw = this.firstPageStmt.all(from === undefined ? MIN_SEQ : typeof from === 'bigint' ? from : BigInt(Math.ceil(from)), pageSize) as unknown[][];
    while (raw.length > 0) {
      const cursor = raw[raw.length - 1][0];
      yield raw.map(toStoredRow);
      if (raw.length < pageSize) return;
      raw = this.nextPageStmt.all(cursor, pageSize) as unknown[][];
    }
  }

  /**
   * Every row as [seq, prevHash, hash, canonical record text] (see HashedAuditRow), or null when this connection cannot
   * build the text exactly: the database is not UTF-8, or json_quote does not quote like JSON.stringify.
   */
  hashedRows(options: { pageSize?: number } = {}): AsyncIterable<HashedAuditRow[]> | null {
    if (this.hashedPageStmt === undefined) this.hashedPageStmt = prepareHashed(this.db);
    const stmt = this.hashedPageStmt;
    return stmt ? hashedPages(stmt, options.pageSize ?? HASHED_PAGE) : null;
  }

  async *scan(fromSeq?: number): AsyncIterable<AuditRecord | { seq: number; raw: string; error: string }> {
    for await (const page of this.rows({ fromSeq })) {
      for (const row of page) yield parseRow(row);
    }
  }

  async addCheckpoint(checkpoint: Checkpoint): Promise<void> {
    this.insertCheckpoint(checkpoint);
  }

  /**
   * Signs the head in one `BEGIN IMMEDIATE` transaction: `sign` gets the head and the latest stored checkpoint (the
   * linked one with the highest number, else the last legacy one) and returns the checkpoint to store. Holding the
   * write lock keeps the numbering one line even with several processes signing.
   */
  async signHead(sign: SignHead): Promise<Checkpoint | null> {
    return this.signHeadTx(sign);
  }

  /** The same transaction as signHead, returned directly (better-sqlite3 is synchronous); null once the database is closed. */
  signHeadSync(sign: SignHead): Checkpoint | null {
    return this.db.open ? this.signHeadTx(sign) : null;
  }

  async checkpoints(): Promise<Checkpoint[]> {
    const rows = this.db.prepare(`SELECT ${CHECKPOINT_COLUMNS} FROM audit_checkpoints ORDER BY seq, id`).all() as CheckpointRow[];
    return rows.map(checkpointOf);
  }

  /** Prepared on first use: they need the linked columns (schema 7), which a database opened without migrating lacks. */
  private checkpointStatements(): NonNullable<SqliteAuditStore['checkpointStmts']> {
    this.checkpointStmts ??= {
      latestLinked: this.db.prepare(`SELECT ${CHECKPOINT_COLUMNS} FROM audit_checkpoints WHERE n IS NOT NULL ORDER BY n DESC, id DESC LIMIT 1`),
      latestLegacy: this.db.prepare(`SELECT ${CHECKPOINT_COLUMNS} FROM audit_checkpoints WHERE n IS NULL ORDER BY seq DESC, id DESC LIMIT 1`),
      insert: this.db.prepare('INSERT INTO audit_checkpoints (seq, hash, time, key_id, signature, n, prev, interval_ms, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)'),
    };
    return this.checkpointStmts;
  }

  private insertCheckpoint(c: Checkpoint): void {
    this.checkpointStatements().insert.run(c.seq, c.hash, c.time, c.keyId, c.signature, c.n ?? null, c.n === undefined ? null : (c.prev ?? null), c.intervalMs ?? null, c.reason ?? null);
  }
}

interface CheckpointRow {
  seq: number;
  hash: string;
  time: string;
  keyId: string;
  signature: string;
  n: number | null;
  prev: string | null;
  intervalMs: number | null;
  reason: string | null;
}

/** A `SELECT *` row of audit_checkpoints (column names as in the table) as a CheckpointRow. */
function fromStarRow(row: Record<string, unknown>): CheckpointRow {
  return {
    seq: row.seq as number,
    hash: row.hash as string,
    time: row.time as string,
    keyId: row.key_id as string,
    signature: row.signature as string,
    n: (row.n ?? null) as number | null,
    prev: (row.prev ?? null) as string | null,
    intervalMs: (row.interval_ms ?? null) as number | null,
    reason: (row.reason ?? null) as string | null,
  };
}

/** A stored checkpoint row as a Checkpoint: legacy rows (n NULL) without the linked fields. */
function checkpointOf(row: CheckpointRow): Checkpoint {
  const { seq, hash, time, keyId, signature } = row;
  if (row.n === null) return { seq, hash, time, keyId, signature };
  return { seq, hash, time, keyId, signature, n: row.n, prev: row.prev, intervalMs: row.intervalMs ?? undefined, reason: (row.reason ?? undefined) as Checkpoint['reason'] };
}

/** The statement reading a page of HashedAuditRows, or null when this SQLite cannot build the text exactly. */
function prepareHashed(db: Database): Statement | null {
  try {
    if (db.pragma('encoding', { simple: true }) !== 'UTF-8') return null;
    const [text, quoted] = db.prepare('SELECT CAST(? AS TEXT), json_quote(CAST(? AS TEXT))').raw().get(QUOTE_PROBE, QUOTE_PROBE) as string[];
    if (JSON.stringify(text) !== quoted) return null;
    return db.prepare(`SELECT ${HASHED_COLUMNS} FROM audit_records WHERE seq > ? ORDER BY seq LIMIT ?`).raw(true);
  } catch {
    return null; // an SQLite without json_quote or concat: verification takes the slow path
  }
}

async function* hashedPages(stmt: Statement, pageSize: number): AsyncIterable<HashedAuditRow[]> {
  let cursor: number | bigint = MIN_SEQ;
  for (;;) {
    const page = stmt.all(cursor, pageSize) as [number | bigint | string, unknown, unknown, string | null][];
    for (const row of page) if (typeof row[0] === 'string') row[0] = BigInt(row[0]);
    if (page.length === 0) return;
    cursor = page[page.length - 1][0] as number | bigint;
    yield page as unknown as HashedAuditRow[];
    if (page.length < pageSize) return;
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
