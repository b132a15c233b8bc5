import { appendedRecords, canonicalRecordText, encodeEntry, GENESIS_HASH, hashText, type EncodedEntry } from '../../audit/chain.js';
import type { AuditWriterThread } from '../audit-writer-thread.js';
import { checkpointEntry } from '../../audit/checkpoint.js';
import type { AuditEntry, AuditQuery, AuditRecord, Checkpoint } from '../../audit/types.js';
import { AgentGuardError } from '../../errors.js';
import { parseRow } from '../sqlite/audit-store.js';
import type { AuditStore, SignHead, StoredAuditRow } from '../store.js';
import { int8, type PgDatabase, type Tx } from './connection.js';

const ROW_COLUMNS = 'seq::text AS seq, time, type, agent_id AS "agentId", decision_id AS "decisionId", effect, rules, data, prev_hash AS "prevHash", hash';
const CHECKPOINT_COLUMNS = 'seq::text AS seq, hash, time, key_id AS "keyId", signature, n::text AS n, prev, interval_ms::text AS "intervalMs", reason';
const DEFAULT_PAGE = 2048;

/** The advisory lock that serialises writers of one chain (appends and checkpoints), held until their transaction ends. */
const LOCK_CHAIN = "SELECT pg_advisory_xact_lock(hashtextextended('agentguard.audit.' || $1, 0))";

// What an append reads under the lock, in one round trip: the head of the chain and its latest checkpoint (always one
// row; null columns when there is none). Read after LOCK_CHAIN, in its own statement, so its snapshot is taken once
// the lock is held.
const HEAD_AND_LATEST =
  `SELECT h.seq::text AS "headSeq", h.hash AS "headHash", c.* FROM (SELECT 1) AS one` +
  ` LEFT JOIN (SELECT seq, hash FROM audit_records WHERE chain = $1 ORDER BY seq DESC LIMIT 1) AS h ON true` +
  ` LEFT JOIN (SELECT ${CHECKPOINT_COLUMNS} FROM audit_checkpoints WHERE chain = $1 ORDER BY audit_checkpoints.id DESC LIMIT 1) AS c ON true`;

interface CheckpointRow {
  seq: string;
  hash: string;
  time: string;
  keyId: string;
  signature: string;
  n: string | null;
  prev: string | null;
  intervalMs: string | null;
  reason: string | null;
}

type Nullable<T> = { [K in keyof T]: T[K] | null };

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
    const placed = await this.db.transaction(async (tx) => {
      await this.ensureChain(tx);
      await tx.query(LOCK_CHAIN, [this.chain]);
      const read = (await tx.query<Nullable<CheckpointRow> & { headSeq: string | null; headHash: string | null }>(HEAD_AND_LATEST, [this.chain]))[0]!;
      let seq = read.headSeq !== null ? Number(read.headSeq) : 0;
      let prevHash = read.headHash ?? GENESIS_HASH;
      const rows: Array<[number, EncodedEntry, string, string]> = [];
      const add = (entry: EncodedEntry) => {
        seq++;
        const hash = hashText(prevHash, canonicalRecordText({ ...entry, seq, prevHash }));
        rows.push([seq, entry, prevHash, hash]);
        const out = { seq, prevHash, hash };
        prevHash = hash;
        return out;
      };
      // As in SQLite: the latest checkpoint, when it signed the head, goes into the chain first.
      const latest = read.hash !== null ? (read as CheckpointRow) : undefined;
      if (latest && latest.n !== null && Number(latest.seq) === seq) add(encodeEntry(checkpointEntry(checkpointOf(latest)), 0, true));
      const out = encoded.map(add);
      await tx.query(
        `INSERT INTO audit_records (chain, seq, time, type, agent_id, decision_id, effect, rules, data, prev_hash, hash)
         SELECT $1, * FROM unnest($2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[])`,
        [
          this.chain,
          rows.map((r) => r[0]),
          rows.map((r) => r[1].time),
          rows.map((r) => r[1].type),
          rows.map((r) => r[1].agentId),
          rows.map((r) => r[1].decisionId),
          rows.map((r) => r[1].effect),
          rows.map((r) => r[1].rules),
          rows.map((r) => r[1].data),
          rows.map((r) => r[2]),
          rows.map((r) => r[3]),
        ],
      );
      alongside?.();
      return out;
    });
    return appendedRecords(entries, encoded, placed);
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
    await this.db.transaction(async (tx) => {
      await this.ensureChain(tx);
      await insertCheckpoint(tx, this.chain, checkpoint);
    });
  }

  async signHead(sign: SignHead): Promise<Checkpoint | null> {
    return this.db.transaction(async (tx) => {
      await this.ensureChain(tx);
      await tx.query(LOCK_CHAIN, [this.chain]);
      const headRow = (await tx.query<{ seq: string; hash: string }>('SELECT seq::text AS seq, hash FROM audit_records WHERE chain = $1 ORDER BY audit_records.seq DESC LIMIT 1', [this.chain]))[0];
      const head = headRow ? { seq: Number(headRow.seq), hash: headRow.hash } : null;
      const latestRow =
        (await tx.query<CheckpointRow>(`SELECT ${CHECKPOINT_COLUMNS} FROM audit_checkpoints WHERE chain = $1 AND n IS NOT NULL ORDER BY audit_checkpoints.n DESC, audit_checkpoints.id DESC LIMIT 1`, [this.chain]))[0] ??
        (await tx.query<CheckpointRow>(`SELECT ${CHECKPOINT_COLUMNS} FROM audit_checkpoints WHERE chain = $1 AND n IS NULL ORDER BY audit_checkpoints.seq DESC, audit_checkpoints.id DESC LIMIT 1`, [this.chain]))[0];
      const checkpoint = sign(head, latestRow ? checkpointOf(latestRow) : null);
      if (checkpoint) await insertCheckpoint(tx, this.chain, checkpoint);
      return checkpoint;
    });
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
  private async ensureChain(tx: Tx): Promise<void> {
    if (this.chainKnown) return;
    await tx.query('INSERT INTO audit_chains (chain, created_at) VALUES ($1, $2) ON CONFLICT (chain) DO NOTHING', [this.chain, new Date().toISOString()]);
    this.chainKnown = true;
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

async function insertCheckpoint(tx: Tx, chain: string, c: Checkpoint): Promise<void> {
  await tx.query(
    'INSERT INTO audit_checkpoints (chain, seq, hash, time, key_id, signature, n, prev, interval_ms, reason) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)',
    [chain, c.seq, c.hash, c.time, c.keyId, c.signature, c.n ?? null, c.n === undefined ? null : (c.prev ?? null), c.intervalMs ?? null, c.reason ?? null],
  );
}

function checkpointOf(row: CheckpointRow): Checkpoint {
  const { hash, time, keyId, signature } = row;
  const seq = Number(row.seq);
  if (row.n === null) return { seq, hash, time, keyId, signature };
  return {
    seq,
    hash,
    time,
    keyId,
    signature,
    n: Number(row.n),
    prev: row.prev,
    intervalMs: row.intervalMs === null ? undefined : Number(row.intervalMs),
    reason: (row.reason ?? undefined) as Checkpoint['reason'],
  };
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
