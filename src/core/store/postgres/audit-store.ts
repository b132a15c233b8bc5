import { appendedRecords, encodeEntry, GENESIS_HASH, type EncodedEntry } from '../../audit/chain.js';
import type { AuditWriterThread } from '../audit-writer-thread.js';
import type { AuditEntry, AuditQuery, AuditRecord, Checkpoint } from '../../audit/types.js';
import { AgentGuardError } from '../../errors.js';
import { parseRow } from '../sqlite/audit-store.js';
import type { AuditStore, SignHead, StoredAuditRow } from '../store.js';
import {
  chainRecords,
  CHECKPOINT_COLUMNS,
  checkpointOf,
  positionAfter,
  positionOf,
  recordColumns,
  type ChainPosition,
  type CheckpointRow,
  type Placed,
  type PositionRow,
} from './audit-chaining.js';
import { int8, type PgDatabase, type Tx } from './connection.js';

const ROW_COLUMNS = 'seq::text AS seq, time, type, agent_id AS "agentId", decision_id AS "decisionId", effect, rules, data, prev_hash AS "prevHash", hash';
const DEFAULT_PAGE = 2048;

/** The advisory lock that serialises writers of one chain (appends and checkpoints), held until their transaction ends. */
const LOCK_CHAIN = "SELECT pg_advisory_xact_lock(hashtextextended('agentguard.audit.' || $1, 0))";

// What an append reads under the lock, in one round trip: the head of the chain and its latest checkpoint (always one
// row; null columns when there is none). Read after LOCK_CHAIN, in its own statement, so its snapshot is taken once
// the lock is held.
const HEAD_AND_LATEST =
  `SELECT h.seq::text AS "headSeq", h.hash AS "headHash", c.* FROM (SELECT 1) AS one` +
  ` LEFT JOIN (SELECT seq, hash FROM audit_records WHERE chain = $1 ORDER BY seq DESC LIMIT 1) AS h ON true` +
  ` LEFT JOIN (SELECT id::text AS id, ${CHECKPOINT_COLUMNS} FROM audit_checkpoints WHERE chain = $1 ORDER BY audit_checkpoints.id DESC LIMIT 1) AS c ON true`;

const INSERT_RECORDS = `INSERT INTO audit_records (chain, seq, time, type, agent_id, decision_id, effect, rules, data, prev_hash, hash)
  SELECT $1, * FROM unnest($2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[])`;

// The same append as one autocommit statement (PG migration 9): it inserts the rows only if the chain is still at the
// position they were hashed from ($2-$4), and answers with the chain's position either way.
const APPEND_AT =
  `SELECT appended, head_seq::text AS "headSeq", head_hash AS "headHash", cp_id::text AS id, cp_seq::text AS seq, cp_hash AS hash,` +
  ` cp_time AS time, cp_key_id AS "keyId", cp_signature AS signature, cp_n::text AS n, cp_prev AS prev, cp_interval_ms::text AS "intervalMs", cp_reason AS reason` +
  ` FROM agentguard_audit_append($1, $2::bigint, $3, $4::bigint, $5::bigint[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[], $14::text[])`;

/** SQLSTATE undefined_function: the database has no agentguard_audit_append (a schema before migration 9). */
const UNDEFINED_FUNCTION = '42883';

/** A public key that signs one chain's checkpoints. */
export interface ChainSigner {
  keyId: string;
  publicKeyPem: string;
}

/** One chain of the store, as listed for verification. */
export interface ChainInfo {
  chain: string;
  createdAt: string;
  keyId: string | null;
  publicKeyPem: string | null;
  records: number;
}

/**
 * One audit chain in PostgreSQL. Every instance appends to its own chain (its name: see PostgresStore), so instances
 * never wait for each other's audit writes; within a chain, writers are serialised by an advisory transaction lock on
 * the chain's name, taken before the head is read, so two processes sharing a chain still produce one valid chain.
 * Each chain is hashed, numbered and checkpointed exactly as the SQLite log is, and is verified on its own.
 *
 * An append takes one round trip once the store knows where its chain's head is (it remembers what it last wrote): one
 * statement (agentguard_audit_append, PG migration 9) takes the lock, checks that the head and the latest checkpoint are
 * still the ones the records were hashed from, and inserts them; when they are not (another writer of the chain, a
 * checkpoint signed since), it writes nothing and answers with the current ones, to hash from and try once more.
 * The first append, a second mismatch, appends with `alongside` writes and a database without the function read the
 * head in a transaction instead (BEGIN, lock, read, insert, COMMIT).
 */
export class PostgresAuditStore implements AuditStore {
  /** `writer`: the store's audit writer thread, if it has one; appends go there while it is usable. */
  constructor(
    private readonly db: PgDatabase,
    readonly chain: string,
    private readonly writer: () => AuditWriterThread | null = () => null,
  ) {}

  /** Appends go to the writer thread, which commits them in the order they were sent. */
  get pipelined(): boolean {
    return this.writer()?.usable === true;
  }

  async append(entries: AuditEntry[], alongside?: () => void): Promise<AuditRecord[]> {
    if (entries.length === 0) return [];
    // Writes that must commit with the entries (`alongside`) need this connection's transaction.
    const writer = alongside ? null : this.writer();
    const threaded = writer?.usable ? writer.append(entries) : null;
    if (threaded) return threaded;
    const encoded = entries.map((entry, i) => encodeEntry(entry, i));
    const placed = await this.inTurn(async () => (alongside ? null : await this.appendAtKnownPosition(encoded)) ?? (await this.appendInTransaction(encoded, alongside)));
    return appendedRecords(entries, encoded, placed);
  }

  /** Where this store last wrote its chain; null when unknown (then the next append reads it in a transaction). */
  private position: ChainPosition | null = null;
  /** False once the database turned out to lack agentguard_audit_append (not migrated to 9 yet): appends use transactions. */
  private oneStatement = true;
  private turn: Promise<unknown> = Promise.resolve();

  /**
   * This store's appends one after the other, in call order: each hashes from where the one before it left the head,
   * so concurrent appends of one store do not all hash from the same head and all but one find it moved.
   */
  private inTurn<T>(work: () => Promise<T>): Promise<T> {
    const run = this.turn.then(work, work);
    this.turn = run.catch(() => undefined);
    return run;
  }

  /**
   * The append as one statement from the known position, then once more from the position it answers with when the
   * chain moved. Null when it was not written that way (no known position, moved twice, no function): nothing of it was
   * written then. A failure rejects with the position forgotten, as a lost connection leaves the commit unknown.
   */
  private async appendAtKnownPosition(encoded: readonly EncodedEntry[]): Promise<Placed[] | null> {
    let from = this.position;
    for (let attempt = 0; from && this.oneStatement && attempt < 2; attempt++) {
      this.position = null;
      const chained = chainRecords(from, encoded);
      let answer: PositionRow & { appended: boolean };
      try {
        answer = (await this.db.query<PositionRow & { appended: boolean }>(APPEND_AT, [this.chain, from.head?.seq ?? 0, from.head?.hash ?? GENESIS_HASH, from.checkpointId, ...recordColumns(chained.rows)]))[0]!;
      } catch (error) {
        if ((error as { code?: unknown }).code !== UNDEFINED_FUNCTION) throw error;
        this.oneStatement = false;
        return null;
      }
      if (answer.appended) {
        this.position = positionAfter(from, chained.head);
        return chained.placed;
      }
      from = positionOf(answer);
    }
    return null;
  }

  private async appendInTransaction(encoded: readonly EncodedEntry[], alongside?: () => void): Promise<Placed[]> {
    this.position = null;
    const written = await this.chainTransaction(async (tx) => {
      await tx.query(LOCK_CHAIN, [this.chain]);
      const from = positionOf((await tx.query<PositionRow>(HEAD_AND_LATEST, [this.chain]))[0]!);
      const chained = chainRecords(from, encoded);
      await tx.query(INSERT_RECORDS, [this.chain, ...recordColumns(chained.rows)]);
      alongside?.();
      return { placed: chained.placed, position: positionAfter(from, chained.head) };
    });
    this.position = written.position;
    return written.placed;
  }

  async head(): Promise<{ seq: number; hash: string } | null> {
    const row = (await this.db.query<{ seq: string; hash: string }>('SELECT seq::text AS seq, hash FROM audit_records WHERE chain = $1 ORDER BY audit_records.seq DESC LIMIT 1', [this.chain]))[0];
    return row ? { seq: Number(row.seq), hash: row.hash } : null;
  }

  async count(): Promise<number> {
    return Number((await this.db.query<{ n: string }>('SELECT count(*)::text AS n FROM audit_records WHERE chain = $1', [this.chain]))[0].n);
  }

  async query(filter: AuditQuery): Promise<AuditRecord[]> {
    return queryRecords(this.db, filter, this.chain);
  }

  async *rows(options: { fromSeq?: number | bigint; pageSize?: number } = {}): AsyncIterable<StoredAuditRow[]> {
    const pageSize = options.pageSize ?? DEFAULT_PAGE;
    const from = options.fromSeq;
    let cursor = from === undefined ? (-(2n ** 63n)).toString() : typeof from === 'bigint' ? from.toString() : String(Math.ceil(from));
    let op = '>=';
    for (;;) {
      const page = await this.db.query<Record<string, unknown>>(
        `SELECT ${ROW_COLUMNS} FROM audit_records WHERE chain = $1 AND seq ${op} $2::bigint ORDER BY audit_records.seq LIMIT $3`,
        [this.chain, cursor, pageSize],
      );
      if (page.length === 0) return;
      cursor = page[page.length - 1].seq as string;
      op = '>';
      yield page.map((r) => ({ ...(r as unknown as StoredAuditRow), seq: int8(r.seq) }));
      if (page.length < pageSize) return;
    }
  }

  async *scan(fromSeq?: number): AsyncIterable<AuditRecord | { seq: number; raw: string; error: string }> {
    for await (const page of this.rows({ fromSeq })) for (const row of page) yield parseRow(row);
  }

  async addCheckpoint(checkpoint: Checkpoint): Promise<void> {
    // The next append reads the chain again, so this checkpoint's entry goes first when it signs the head.
    this.position = null;
    await this.chainTransaction(async (tx) => {
      await insertCheckpoint(tx, this.chain, checkpoint);
    });
  }

  async signHead(sign: SignHead): Promise<Checkpoint | null> {
    const signed = await this.chainTransaction(async (tx) => {
      await tx.query(LOCK_CHAIN, [this.chain]);
      const headRow = (await tx.query<{ seq: string; hash: string }>('SELECT seq::text AS seq, hash FROM audit_records WHERE chain = $1 ORDER BY audit_records.seq DESC LIMIT 1', [this.chain]))[0];
      const head = headRow ? { seq: Number(headRow.seq), hash: headRow.hash } : null;
      const latestRow =
        (await tx.query<CheckpointRow>(`SELECT ${CHECKPOINT_COLUMNS} FROM audit_checkpoints WHERE chain = $1 AND n IS NOT NULL ORDER BY audit_checkpoints.n DESC, audit_checkpoints.id DESC LIMIT 1`, [this.chain]))[0] ??
        (await tx.query<CheckpointRow>(`SELECT ${CHECKPOINT_COLUMNS} FROM audit_checkpoints WHERE chain = $1 AND n IS NULL ORDER BY audit_checkpoints.seq DESC, audit_checkpoints.id DESC LIMIT 1`, [this.chain]))[0];
      const checkpoint = sign(head, latestRow ? checkpointOf(latestRow) : null);
      if (!checkpoint) return null;
      return { checkpoint, position: { head, ...(await insertCheckpoint(tx, this.chain, checkpoint)) } };
    });
    // The next append starts from here, its entry first. Should an append have moved the head meanwhile, the
    // statement finds this position stale and answers with the current one.
    if (signed) this.position = signed.position;
    return signed?.checkpoint ?? null;
  }

  async checkpoints(): Promise<Checkpoint[]> {
    const rows = await this.db.query<CheckpointRow>(`SELECT ${CHECKPOINT_COLUMNS} FROM audit_checkpoints WHERE chain = $1 ORDER BY audit_checkpoints.seq, audit_checkpoints.id`, [this.chain]);
    return rows.map(checkpointOf);
  }

  /**
   * Records the public key that signs this chain, so `audit verify` can check every chain of the store from one place.
   * The first key stays: a different key later is refused rather than replacing it (a chain has one signer).
   */
  async registerSigner(signer: ChainSigner): Promise<void> {
    const rows = await this.db.query<{ key_id: string | null }>(
      `INSERT INTO audit_chains (chain, created_at, key_id, public_key) VALUES ($1, $2, $3, $4)
       ON CONFLICT (chain) DO UPDATE SET key_id = COALESCE(audit_chains.key_id, excluded.key_id), public_key = COALESCE(audit_chains.public_key, excluded.public_key)
       RETURNING key_id`,
      [this.chain, new Date().toISOString(), signer.keyId, signer.publicKeyPem],
    );
    if (rows[0]?.key_id !== signer.keyId) {
      throw new AgentGuardError('AUDIT_KEY_UNREADABLE', `audit chain ${this.chain} is signed by key ${rows[0]?.key_id}, not by this instance's key ${signer.keyId}`, {
        actions: ['Give each instance its own chain name (AGENTGUARD_STORE_CHAIN), or restore the instance\'s signing key (<data-dir>/keys).'],
      });
    }
  }

  private chainKnown = false;
  /**
   * A transaction that first makes sure the chain has its row in audit_chains. That is remembered only once such a
   * transaction committed: a rolled-back one leaves no row, and the next transaction writes it.
   */
  private async chainTransaction<T>(work: (tx: Tx) => Promise<T>): Promise<T> {
    const known = this.chainKnown;
    const result = await this.db.transaction(async (tx) => {
      if (!known) await tx.query('INSERT INTO audit_chains (chain, created_at) VALUES ($1, $2) ON CONFLICT (chain) DO NOTHING', [this.chain, new Date().toISOString()]);
      return work(tx);
    });
    this.chainKnown = true;
    return result;
  }
}

/** Every chain of the store with its signer and size, by name. */
export async function listChains(db: PgDatabase): Promise<ChainInfo[]> {
  const rows = await db.query<{ chain: string; created_at: string; key_id: string | null; public_key: string | null; records: string }>(
    `SELECT c.chain, c.created_at, c.key_id, c.public_key, (SELECT count(*) FROM audit_records r WHERE r.chain = c.chain)::text AS records
     FROM (SELECT chain, created_at, key_id, public_key FROM audit_chains
           UNION SELECT DISTINCT chain, '', NULL, NULL FROM audit_records WHERE chain NOT IN (SELECT chain FROM audit_chains)) c
     ORDER BY c.chain`,
  );
  return rows.map((r) => ({ chain: r.chain, createdAt: r.created_at, keyId: r.key_id, publicKeyPem: r.public_key, records: Number(r.records) }));
}

/**
 * Records of one chain, or of every chain merged by time (chain null): what `audit query` and `audit export` read on a
 * fleet. Merged results are ordered by time, then chain and seq, so the order is total and stable.
 */
export async function queryRecords(db: PgDatabase, filter: AuditQuery, chain: string | null): Promise<AuditRecord[]> {
  if (filter.limit !== undefined && (!Number.isSafeInteger(filter.limit) || filter.limit < 0)) {
    throw new AgentGuardError('AUDIT_QUERY_INVALID', `limit must be a whole number >= 0, got ${filter.limit}`);
  }
  const out: AuditRecord[] = [];
  if (filter.limit === 0) return out;
  for await (const page of recordPages(db, filter, chain)) {
    for (const record of page) {
      out.push(record);
      if (filter.limit !== undefined && out.length >= filter.limit) return out;
    }
  }
  return out;
}

/**
 * The same records one page at a time, without a limit, for exports of any size: keyset paging on (time, chain, seq),
 * so every page is one index range whatever its depth.
 */
export async function* recordPages(db: PgDatabase, filter: AuditQuery, chain: string | null, pageSize = 1000): AsyncIterable<AuditRecord[]> {
  const where: string[] = [];
  const values: unknown[] = [];
  const param = (value: unknown) => {
    values.push(value);
    return `$${values.length}`;
  };
  if (chain !== null) where.push(`chain = ${param(chain)}`);
  if (filter.agent !== undefined) where.push(`agent_id = ${param(filter.agent)}`);
  if (filter.effect !== undefined) where.push(`effect = ${param(filter.effect)}`);
  if (filter.type !== undefined) where.push(`type = ${param(filter.type)}`);
  if (filter.decisionId !== undefined) where.push(`decision_id = ${param(filter.decisionId)}`);
  if (filter.since !== undefined) where.push(`time >= ${param(isoTime(filter.since, 'since'))}`);
  if (filter.until !== undefined) where.push(`time < ${param(isoTime(filter.until, 'until'))}`);
  if (filter.afterSeq !== undefined) {
    if (chain === null) throw new AgentGuardError('AUDIT_QUERY_INVALID', 'afterSeq needs one chain: sequence numbers are per chain');
    where.push(`seq > ${param(filter.afterSeq)}`);
  }
  // A substring test narrows the rows; the parsed rules decide (a tampered rules column must not fail the query).
  if (filter.rule !== undefined) where.push(`strpos(rules, ${param(JSON.stringify(filter.rule))}) > 0`);
  const asc = filter.order === 'asc';
  const dir = asc ? 'ASC' : 'DESC';
  // Qualified: a bare `seq` in ORDER BY would name the text output column (seq::text AS seq) and sort 10 before 9.
  const keys = chain === null ? ['audit_records.time', 'audit_records.chain', 'audit_records.seq'] : ['audit_records.seq'];
  const order = keys.map((k) => `${k} ${dir}`).join(', ');
  let cursor: unknown[] | null = null;
  for (;;) {
    const pageValues = [...values];
    let after = '';
    if (cursor) {
      const placeholders = cursor.map((v, i) => {
        pageValues.push(v);
        return `$${pageValues.length}${keys[i].endsWith('.seq') ? '::bigint' : ''}`;
      });
      after = `(${keys.join(', ')}) ${asc ? '>' : '<'} (${placeholders.join(', ')})`;
    }
    const conditions = [...where, ...(after ? [after] : [])];
    const rows = await db.query<Record<string, unknown>>(
      `SELECT ${ROW_COLUMNS}, chain FROM audit_records${conditions.length ? ` WHERE ${conditions.join(' AND ')}` : ''} ORDER BY ${order} LIMIT ${pageSize}`,
      pageValues,
    );
    const page: AuditRecord[] = [];
    for (const r of rows) {
      const parsed = parseRow({ ...(r as unknown as StoredAuditRow), seq: int8(r.seq) });
      if ('error' in parsed) {
        throw new AgentGuardError('AUDIT_RECORD_UNREADABLE', `audit record ${parsed.seq}${chain === null ? '' : ` of chain ${chain}`} cannot be read: ${parsed.error}`, {
          actions: ['Run `agentguard audit verify`: the log may have been tampered with.'],
        });
      }
      if (filter.rule !== undefined && !parsed.rules.includes(filter.rule)) continue;
      page.push(chain === null ? { ...parsed, chain: r.chain as string } : parsed);
    }
    if (page.length > 0) yield page;
    if (rows.length < pageSize) return;
    const last = rows[rows.length - 1];
    cursor = chain === null ? [last.time, last.chain, last.seq] : [last.seq];
  }
}

/** Inserts a checkpoint; returns the chain's position right after it (the checkpoint as stored, and its row id). */
async function insertCheckpoint(tx: Tx, chain: string, c: Checkpoint): Promise<Omit<ChainPosition, 'head'>> {
  const row = (
    await tx.query<CheckpointRow & { id: string }>(
      `INSERT INTO audit_checkpoints (chain, seq, hash, time, key_id, signature, n, prev, interval_ms, reason) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
       RETURNING id::text AS id, ${CHECKPOINT_COLUMNS}`,
      [chain, c.seq, c.hash, c.time, c.keyId, c.signature, c.n ?? null, c.n === undefined ? null : (c.prev ?? null), c.intervalMs ?? null, c.reason ?? null],
    )
  )[0]!;
  return { checkpointId: row.id, latest: checkpointOf(row) };
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
