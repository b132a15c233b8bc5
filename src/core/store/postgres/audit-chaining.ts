import { canonicalRecordText, encodeEntry, GENESIS_HASH, hashText, type EncodedEntry } from '../../audit/chain.js';
import { checkpointEntry } from '../../audit/checkpoint.js';
import type { Checkpoint } from '../../audit/types.js';

/**
 * How a PostgreSQL audit chain grows: where its next record goes (ChainPosition) and the records an append writes from
 * there (chainRecords). Both append paths of PostgresAuditStore, the transaction and the single statement, chain their
 * entries here, so they write the same records for the same position.
 */

/** Checkpoint columns as SELECT aliases, for every query that reads checkpoint rows. */
export const CHECKPOINT_COLUMNS = 'seq::text AS seq, hash, time, key_id AS "keyId", signature, n::text AS n, prev, interval_ms::text AS "intervalMs", reason';

/** A checkpoint row as read with CHECKPOINT_COLUMNS. */
export interface CheckpointRow {
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

/** The head of a chain and its latest checkpoint (with that checkpoint's row id), as both append paths read them. */
export type PositionRow = Nullable<CheckpointRow> & { headSeq: string | null; headHash: string | null; id: string | null };

/** Where the next record of a chain goes: its head and its latest checkpoint, as read or last written. */
export interface ChainPosition {
  head: { seq: number; hash: string } | null;
  /** Row id of the chain's latest checkpoint ('0' for none): a newer checkpoint makes the position stale. */
  checkpointId: string;
  latest: Checkpoint | null;
}

/** A record ready to insert: its place in the chain, its columns, the hash it links to and its own. */
export type ChainedRow = [seq: number, entry: EncodedEntry, prevHash: string, hash: string];

/** Where each appended entry went (not counting a checkpoint entry put before them). */
export interface Placed {
  seq: number;
  prevHash: string;
  hash: string;
}

/** The rows that append `encoded` at `from`, where each entry went, and the chain's head after them. */
export function chainRecords(from: ChainPosition, encoded: readonly EncodedEntry[]): { rows: ChainedRow[]; placed: Placed[]; head: { seq: number; hash: string } } {
  let seq = from.head?.seq ?? 0;
  let prevHash = from.head?.hash ?? GENESIS_HASH;
  const rows: ChainedRow[] = [];
  const add = (entry: EncodedEntry): Placed => {
    seq++;
    const hash = hashText(prevHash, canonicalRecordText({ ...entry, seq, prevHash }));
    rows.push([seq, entry, prevHash, hash]);
    const out = { seq, prevHash, hash };
    prevHash = hash;
    return out;
  };
  // As in SQLite: the latest checkpoint, when it signed the head, goes into the chain first.
  const latest = from.latest;
  if (latest && latest.n !== undefined && latest.seq === seq) add(encodeEntry(checkpointEntry(latest), 0, true));
  const placed = encoded.map(add);
  return { rows, placed, head: { seq, hash: prevHash } };
}

/** The position after `rows` were written at `from` (the same latest checkpoint, a new head). */
export function positionAfter(from: ChainPosition, head: { seq: number; hash: string }): ChainPosition {
  return { head, checkpointId: from.checkpointId, latest: from.latest };
}

/** A position as read from the database. */
export function positionOf(row: PositionRow): ChainPosition {
  return {
    head: row.headSeq !== null && row.headHash !== null ? { seq: Number(row.headSeq), hash: row.headHash } : null,
    checkpointId: row.id ?? '0',
    latest: row.hash !== null ? checkpointOf(row as CheckpointRow) : null,
  };
}

/** The ten record columns of `rows` as arrays, in audit_records' column order after `chain` (for unnest). */
export function recordColumns(rows: readonly ChainedRow[]): unknown[] {
  return [
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
  ];
}

/** A checkpoint as read with CHECKPOINT_COLUMNS. */
export function checkpointOf(row: CheckpointRow): Checkpoint {
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
