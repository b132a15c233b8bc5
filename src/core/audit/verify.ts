import type { AuditStore, Store, StoredAuditRow } from '../store/store.js';
import { canonicalRecordText, columnsAligned, GENESIS_HASH, hashText, type RecordColumns } from './chain.js';
import { checkpointSignatureProblem } from './checkpoint.js';
import type { PublicKeyInfo } from './keys.js';
import type { AuditProblem, Checkpoint, VerifyResult } from './types.js';
import { checkLinkedCheckpoints, DEFAULT_UNSIGNED_SLACK_MS, type ChainedCheckpoint } from './verify-checkpoints.js';
import { Problems } from './verify-problems.js';

/** A checkpoint kept outside the log (see `readCheckpointFile`), and the key it names. */
export interface ExternalCheckpoint {
  checkpoint: Checkpoint;
  key: PublicKeyInfo;
  /** Where it came from, for messages. */
  path?: string;
}

/** Options of verifyAudit. */
export interface VerifyAuditOptions {
  /** The log's public key; stored checkpoints must verify with it. Null when the data folder has no key. */
  publicKey: PublicKeyInfo | null;
  /** A checkpoint kept elsewhere: finds a truncated or rolled-back log even when the stored checkpoints were removed. */
  externalCheckpoint?: ExternalCheckpoint;
  /**
   * The latest checkpoint the signer recorded next to its key (witness.ts), checked like `externalCheckpoint`: finds
   * checkpoints deleted from the database and a log cut back or emptied.
   */
  witness?: ExternalCheckpoint;
  /** The time verification is as of, for records no checkpoint covers (default now). */
  now?: Date;
  /**
   * Slack added to the signer's checkpoint interval before records no checkpoint covers are reported as `unsigned`
   * (default 120 000 ms): room for a writer's busy event loop or a checkpoint signed as verification starts.
   */
  unsignedSlackMs?: number;
  /** Called after each page of rows with the number of rows read so far. */
  onProgress?: (rowsRead: number) => void;
  /** Most problems listed (default 20); the rest are counted in `omittedProblems`. */
  maxProblems?: number;
}

/** Rows kept for diagnosis at most; a log broken in more places than this is summarised. */
const MAX_ANOMALIES = 1000;

/**
 * Verifies the audit log: every record's hash over its columns, every link, contiguous sequence numbers, the signature
 * of every stored checkpoint and that the log still matches them, and optionally a checkpoint kept elsewhere.
 *
 * Problems name the first bad seq and what is wrong: `changed`, `missing`, `inserted`, `reordered`, `bad_signature`,
 * `truncated`, `unreadable`. One break is reported once: records that fail only because of an earlier, already
 * reported break (a renumbered tail, the neighbours of a swapped record) are folded into that problem.
 *
 * @example
 * const result = await verifyAudit(store, { publicKey: loadPublicKey(dataDir) });
 * if (!result.ok) console.log(result.problems[0]); // { seq: 17, kind: 'changed', message: 'record 17 was changed: …' }
 */
export async function verifyAudit(store: Store | AuditStore, options: VerifyAuditOptions): Promise<VerifyResult> {
  const audit = 'audit' in store ? store.audit : store;
  const checkpoints = await audit.checkpoints();
  const external = options.externalCheckpoint;
  // The witness first: where both find the same thing, the message names the file the user passed.
  const outside = [
    ...(options.witness ? [{ ...options.witness, name: `the checkpoint kept next to the signing key${options.witness.path ? ` in ${options.witness.path}` : ''}` }] : []),
    ...(external ? [{ ...external, name: external.path ? `the checkpoint file ${external.path}` : 'the external checkpoint' }] : []),
  ];
  const watched = new Set(checkpoints.map((c) => c.seq));
  for (const o of outside) watched.add(o.checkpoint.seq);

  const scan = await scanChain(audit, watched, options.onProgress);
  const problems = new Problems();
  if (scan.anomalies.length > 0) diagnose(scan, await findPositions(audit, scan.anomalies), problems);
  if (scan.readError) problems.add(scan.lastSeq + 1, 'unreadable', `the log cannot be read after seq ${scan.lastSeq}: ${scan.readError}`);
  const validStored = checkStoredCheckpoints(checkpoints, options.publicKey, scan, problems);
  const validOutside = outside.filter((o) => checkExternalCheckpoint(o, o.name, options.publicKey, scan, problems));
  const lastFailed = scan.anomalyCount > scan.anomalies.length ? Infinity : Math.max(0, ...scan.anomalies.map((a) => (Number.isNaN(a.seq) ? 0 : a.seq)));
  const notes = await checkLinkedCheckpoints({
    stored: validStored,
    allStored: checkpoints,
    key: options.publicKey,
    chained: scan.chained,
    outside: validOutside.map((o) => ({ checkpoint: o.checkpoint, name: o.name })),
    lastSeq: scan.lastSeq,
    readError: scan.readError !== undefined,
    problems,
    failedAfter: (seq) => scan.anomalyCount > 0 && lastFailed > seq,
    timeAt: (seq) => timeAt(audit, seq),
    now: options.now ?? new Date(),
    slackMs: options.unsignedSlackMs ?? DEFAULT_UNSIGNED_SLACK_MS,
  });

  const all = problems.sorted();
  const max = options.maxProblems ?? 20;
  const listed = all.slice(0, max);
  let omitted = all.length - listed.length;
  const unanalysed = scan.anomalyCount - scan.anomalies.length;
  if (unanalysed > 0 && listed.length > 0) {
    const last = listed[listed.length - 1];
    listed[listed.length - 1] = { ...last, message: `${last.message} (${unanalysed} more records after seq ${scan.anomalies[scan.anomalies.length - 1].seq} also fail to verify; fix the first problem first)` };
    omitted += unanalysed;
  }
  const result: VerifyResult = { ok: all.length === 0 && unanalysed === 0, records: scan.rowsRead, checkpoints: checkpoints.length, problems: listed };
  if (omitted > 0) result.omittedProblems = omitted;
  if (notes.length > 0) result.notes = notes;
  return result;
}

// ---------------------------------------------------------------------------------------------------------------
// Pass 1: stream every row once, check hash, link and seq; keep only the rows that fail.

interface Anomaly {
  /** The seq column (the row's position); NaN when it is out of range. */
  seq: number;
  row: StoredAuditRow;
  /** Null when a column does not have its type; then `typeProblem` says which. */
  columns: RecordColumns | null;
  typeProblem?: string;
  selfOk: boolean;
  /** The columns split the hashed text where they did when it was written (see columnsAligned). */
  alignedOk: boolean;
  linkOk: boolean;
  seqOk: boolean;
  expectedSeq: number;
  /** The previous row's stored hash: what this row's prevHash should be. */
  expectedLink: string;
}

interface ScanResult {
  rowsRead: number;
  /** The last seq (>= 1) read, 0 for an empty log. */
  lastSeq: number;
  /**
   * The highest seq any row had when it was hashed (set by diagnose): a renumbered or moved last record still counts,
   * so that the log is not also reported as truncated because of it.
   */
  reachedSeq: number;
  /** Stored hash at each watched seq (checkpoint seqs). */
  hashAt: Map<number, unknown>;
  anomalies: Anomaly[];
  anomalyCount: number;
  /** The chain's copies of checkpoints (records of type checkpoint whose hash and link check out). */
  chained: ChainedCheckpoint[];
  readError?: string;
}

/** The record text's end for records of type checkpoint (see canonicalRecordText). */
const CHECKPOINT_RECORD_END = ',"type":"checkpoint"}';

async function scanChain(audit: AuditStore, watched: Set<number>, onProgress?: (rows: number) => void): Promise<ScanResult> {
  const result: ScanResult = { rowsRead: 0, lastSeq: 0, reachedSeq: 0, hashAt: new Map(), anomalies: [], anomalyCount: 0, chained: [] };
  let prevSeq = 0;
  let prevStored = GENESIS_HASH;
  let prevComputed = GENESIS_HASH;

  /** The full check of one row; keeps it when it fails. */
  const check = (row: StoredAuditRow): void => {
    const seq = typeof row.seq === 'number' ? row.seq : Number.NaN;
    const expectedSeq = prevSeq + 1;
    const columns = columnsOf(row);
    let computed = '';
    let selfOk = false;
    let alignedOk = true;
    if (typeof columns !== 'string' && !Number.isNaN(seq)) {
      computed = hashText(columns.prevHash, canonicalRecordText(columns));
      selfOk = computed === row.hash;
      if (selfOk) alignedOk = columnsAligned(columns.rules);
    }
    const linkOk = row.prevHash === prevStored || row.prevHash === prevComputed;
    const seqOk = seq === expectedSeq;
    if (selfOk && alignedOk && linkOk && seqOk && row.type === 'checkpoint') {
      result.chained.push({ seq, prevHash: row.prevHash as string, data: parseJson(row.data as string) });
    }
    if (!(selfOk && alignedOk && linkOk && seqOk)) {
      result.anomalyCount++;
      if (result.anomalies.length < MAX_ANOMALIES) {
        result.anomalies.push({
          seq,
          row,
          columns: typeof columns === 'string' ? null : columns,
          typeProblem: typeof columns === 'string' ? columns : Number.isNaN(seq) ? `its seq ${String(row.seq)} is out of range` : undefined,
          selfOk,
          alignedOk,
          linkOk,
          seqOk,
          expectedSeq,
          expectedLink: prevStored,
        });
      }
    }
    // Rows before seq 1 (or with an impossible seq) are not part of the chain; the chain continues without them.
    if (Number.isNaN(seq) || seq < 1) return;
    advance(seq, row.hash, computed);
  };
  const advance = (seq: number, hash: unknown, computed: string): void => {
    if (watched.has(seq)) result.hashAt.set(seq, hash);
    prevSeq = seq;
    prevStored = typeof hash === 'string' ? hash : '';
    prevComputed = computed;
    result.lastSeq = seq;
    result.reachedSeq = seq;
  };

  try {
    const hashed = audit.hashedRows?.();
    if (hashed) {
      // Fast path: a row that is next in sequence, links to the previous one and matches its hash is all right, and
      // is what `check` would accept. Anything else is read again in full and checked the slow way.
      for await (const page of hashed) {
        for (const [seq, prevHash, hash, text] of page) {
          result.rowsRead++;
          if (text !== null && seq === prevSeq + 1 && (prevHash === prevStored || prevHash === prevComputed)) {
            const computed = hashText(prevHash as string, text);
            if (computed === hash) {
              if (text.endsWith(CHECKPOINT_RECORD_END)) result.chained.push({ seq, prevHash: prevHash as string, data: (parseJson(text) as { data?: unknown } | undefined)?.data });
              advance(seq, hash, computed);
              continue;
            }
          }
          check(await rowAt(audit, seq));
        }
        onProgress?.(result.rowsRead);
      }
    } else {
      for await (const page of audit.rows()) {
        for (const row of page) {
          result.rowsRead++;
          check(row);
        }
        onProgress?.(result.rowsRead);
      }
    }
  } catch (error) {
    result.readError = (error as Error).message;
  }
  return result;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The time column of the record at `seq`, or undefined when there is none or it is not text. */
async function timeAt(audit: AuditStore, seq: number): Promise<string | undefined> {
  for await (const page of audit.rows({ fromSeq: seq, pageSize: 1 })) {
    if (page.length > 0 && page[0].seq === seq && typeof page[0].time === 'string') return page[0].time;
    return undefined;
  }
  return undefined;
}

/** The stored row at `seq`, read again for the full check. */
async function rowAt(audit: AuditStore, seq: number | bigint): Promise<StoredAuditRow> {
  for await (const page of audit.rows({ fromSeq: seq, pageSize: 1 })) {
    if (page.length > 0 && page[0].seq === seq) return page[0];
  }
  throw new Error(`record ${seq} was deleted or renumbered while the log was being verified`);
}

const TEXT_COLUMNS = ['time', 'type', 'rules', 'data', 'prevHash'] as const;
const NULLABLE_COLUMNS = ['agentId', 'decisionId', 'effect'] as const;

/** The row's columns with their declared types, or which column does not have its type. */
function columnsOf(row: StoredAuditRow): RecordColumns | string {
  for (const field of TEXT_COLUMNS) {
    if (typeof row[field] !== 'string') return `its ${columnName(field)} column holds ${describe(row[field])}, not text`;
  }
  for (const field of NULLABLE_COLUMNS) {
    if (row[field] !== null && typeof row[field] !== 'string') return `its ${columnName(field)} column holds ${describe(row[field])}, not text or null`;
  }
  if (typeof row.hash !== 'string') return `its hash column holds ${describe(row.hash)}, not text`;
  return row as unknown as RecordColumns;
}

function columnName(field: string): string {
  return field.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

function describe(value: unknown): string {
  if (value === null) return 'NULL';
  if (typeof value === 'number' || typeof value === 'bigint') return `a number (${value})`;
  if (value instanceof Uint8Array) return `a blob (${value.length} bytes)`;
  return typeof value;
}

// ---------------------------------------------------------------------------------------------------------------
// Pass 2 (only when something failed): where do the hashes that failing rows point to actually live?

async function findPositions(audit: AuditStore, anomalies: Anomaly[]): Promise<Map<string, number[]>> {
  const wanted = new Set<string>();
  for (const a of anomalies) if (typeof a.row.prevHash === 'string') wanted.add(a.row.prevHash);
  const positions = new Map<string, number[]>();
  try {
    for await (const page of audit.rows()) {
      for (const row of page) {
        if (typeof row.seq !== 'number' || typeof row.hash !== 'string' || !wanted.has(row.hash)) continue;
        const list = positions.get(row.hash);
        if (list) list.push(row.seq);
        else positions.set(row.hash, [row.seq]);
      }
    }
  } catch {
    // Already reported as unreadable by the first pass; diagnose with what was found.
  }
  return positions;
}

// ---------------------------------------------------------------------------------------------------------------
// Diagnosis: turn failing rows into problems, folding the consequences of one break into one problem.

interface Origin {
  /** The seq the row had when it was hashed. */
  seq: number;
  /** The row matches its hash only with the prev_hash the chain expects: its prev_hash column was edited. */
  prevEdited?: boolean;
}

function diagnose(scan: ScanResult, positions: Map<string, number[]>, problems: Problems): void {
  const byPosition = new Map<number, Anomaly>();
  for (const a of scan.anomalies) if (!Number.isNaN(a.seq)) byPosition.set(a.seq, a);
  const origins = new Map<Anomaly, Origin | null>();
  const originOf = (a: Anomaly): Origin | null => {
    if (!origins.has(a)) origins.set(a, findOrigin(a, positions));
    return origins.get(a) ?? null;
  };
  const predecessorsOf = (a: Anomaly): number[] => {
    const prev = a.row.prevHash;
    if (prev === GENESIS_HASH) return [0];
    return typeof prev === 'string' ? (positions.get(prev) ?? []) : [];
  };
  /** Rows already accounted for by a reported problem. */
  const explained = new Set<number>();
  /** Original seqs of records reported as moved. */
  const movedOrigins = new Set<number>();
  let run: { delta: number; end: number; problem: AuditProblem; count: number } | null = null;

  for (const a of scan.anomalies) {
    const p = a.seq;
    if (Number.isNaN(p)) {
      problems.add(Number(a.row.seq), 'changed', `a record has seq ${String(a.row.seq)}, outside the range agentguard writes: its seq column was changed`);
      continue;
    }
    if (a.columns === null) {
      problems.add(p, 'changed', `record ${p} was changed: ${a.typeProblem}`);
      explained.add(p);
      continue;
    }
    if (a.selfOk && !a.alignedOk) {
      problems.add(p, 'changed', `record ${p} was changed: text was moved between its data column and the columns after it, so the hash still matches but decision_id, effect, prev_hash or rules do not`);
      explained.add(p);
      continue;
    }
    const origin = originOf(a);
    if (origin) scan.reachedSeq = Math.max(scan.reachedSeq, origin.seq);
    if (p < 1) {
      if (origin && origin.seq !== p) {
        if (!movedOrigins.has(origin.seq)) problems.add(origin.seq, 'reordered', `record ${origin.seq} was moved to seq ${p}`);
        movedOrigins.add(origin.seq);
      } else if (origin) {
        problems.add(p, 'inserted', `record ${p} was inserted: sequence numbers start at 1, so it is not part of the chain`);
      } else {
        problems.add(p, 'inserted', `a record with seq ${p} was inserted or changed: sequence numbers start at 1, and its content does not match its hash`);
      }
      explained.add(p);
      continue;
    }
    if (!origin) {
      problems.add(p, 'changed', `record ${p} was changed: its content no longer matches its hash`);
      explained.add(p);
      continue;
    }
    if (origin.prevEdited) {
      problems.add(p, 'changed', `record ${p} was changed: its prev_hash column no longer holds the hash of record ${p - 1}`);
      explained.add(p);
      continue;
    }

    if (origin.seq === p) {
      // The row is what it says it is; what is wrong is the gap before it or the record it links to.
      explained.add(p);
      if (!a.seqOk) {
        const from = a.expectedSeq;
        const to = p - 1;
        if (movedOrigins.has(to)) continue;
        const elsewhere = predecessorsOf(a).filter((q) => q !== 0 && q !== to);
        if (!a.linkOk && elsewhere.length > 0) {
          movedOrigins.add(to);
          problems.add(to, 'reordered', `record ${to} was moved to seq ${elsewhere[0]}`);
        } else {
          problems.add(from, 'missing', from === to ? `record ${from} is missing: it was deleted (record ${p} links to a record no longer in the log)` : `records ${from}..${to} are missing: they were deleted (record ${p} links to a record no longer in the log)`);
        }
        continue;
      }
      // Contiguous, but the link is broken.
      if (explained.has(p - 1)) continue; // a consequence of the problem already reported for the record before
      const preds = predecessorsOf(a);
      const earlier = preds.filter((q) => q < p - 1);
      const later = preds.filter((q) => q > p);
      if (earlier.length > 0) {
        problems.add(p, 'inserted', `record ${p} was inserted: it links to record ${earlier[0]} instead of record ${p - 1}`);
      } else if (later.length > 0) {
        problems.add(p, 'reordered', `record ${p} links to record ${later[0]}, which comes after it: records were reordered`);
      } else if (p === 1) {
        problems.add(1, 'changed', 'record 1 was replaced: it does not start from the genesis hash');
      } else {
        problems.add(p - 1, 'changed', `record ${p - 1} was replaced: record ${p} links to a different record ${p - 1} (the replacement's hash was recomputed to hide the change)`, p);
      }
      continue;
    }

    // The row was hashed at another seq: it was moved.
    explained.add(p);
    const delta = p - origin.seq;
    const partner = byPosition.get(origin.seq);
    if (partner && originOf(partner)?.seq === p) {
      const [lo, hi] = p < origin.seq ? [p, origin.seq] : [origin.seq, p];
      problems.add(lo, 'reordered', `records ${lo} and ${hi} were swapped`); // the partner adds the same one, kept once
      explained.add(origin.seq);
      continue;
    }
    // Off by one with no gap before it: a renumbered run hiding a deletion or an insertion. With a gap, it was moved.
    const renumbered = Math.abs(delta) === 1 && a.seqOk;
    if (renumbered && run && run.delta === delta && run.end === p - 1) {
      run.end = p;
      run.count++;
      run.problem.message = renumberedMessage(run.problem.seq, delta, run.end, run.count);
      continue;
    }
    if (renumbered && delta === -1) {
      const problem = problems.add(p, 'missing', renumberedMessage(p, delta, p, 1));
      run = { delta, end: p, problem, count: 1 };
    } else if (renumbered) {
      problems.replaceDerivedFrom(p - 1);
      const problem = problems.add(p - 1, 'inserted', renumberedMessage(p - 1, delta, p, 1), undefined, true);
      explained.add(p - 1);
      run = { delta, end: p, problem, count: 1 };
    } else if (!movedOrigins.has(origin.seq)) {
      movedOrigins.add(origin.seq);
      problems.add(Math.min(p, origin.seq), 'reordered', `record ${origin.seq} was moved to seq ${p}`);
    }
  }
}

function renumberedMessage(seq: number, delta: number, end: number, count: number): string {
  const tail = count === 1 ? `the record now at ${end} was ${end - delta}` : `${count} records, now ${end - count + 1}..${end}, were renumbered`;
  return delta < 0
    ? `record ${seq} is missing: it was deleted and the records after it renumbered down by one to hide the gap (${tail})`
    : `record ${seq} was inserted: the records after it were renumbered up by one to make room (${tail})`;
}

/** The seq under which a failing row's content matches its stored hash, or null when it matches under none. */
function findOrigin(a: Anomaly, positions: Map<string, number[]>): Origin | null {
  const c = a.columns;
  if (!c || typeof a.row.hash !== 'string') return null;
  if (a.selfOk) return { seq: a.seq };
  const hash = a.row.hash;
  const matches = (seq: number, prevHash: string) => hashText(prevHash, canonicalRecordText({ ...c, seq, prevHash })) === hash;
  if (c.prevHash !== a.expectedLink && a.seq >= 1 && matches(a.seq, a.expectedLink)) return { seq: a.seq, prevEdited: true };
  const candidates = new Set<number>();
  if (c.prevHash === GENESIS_HASH) candidates.add(1);
  for (const q of positions.get(c.prevHash) ?? []) candidates.add(q + 1);
  candidates.add(a.seq - 1);
  candidates.add(a.seq + 1);
  candidates.delete(a.seq);
  for (const seq of candidates) if (seq >= 1 && matches(seq, c.prevHash)) return { seq };
  return null;
}

// ---------------------------------------------------------------------------------------------------------------
// Checkpoints.

/** Checks the stored checkpoints against the key and the chain; returns those whose signature verifies. */
function checkStoredCheckpoints(checkpoints: Checkpoint[], key: PublicKeyInfo | null, scan: ScanResult, problems: Problems): Checkpoint[] {
  let beyond: Checkpoint | null = null;
  const valid: Checkpoint[] = [];
  for (const cp of checkpoints) {
    const bad = key ? checkpointSignatureProblem(cp, key) : 'there is no public key in the data folder to check it with';
    if (bad) {
      problems.add(cp.seq, 'bad_signature', `the stored checkpoint${cp.n === undefined ? '' : ` #${cp.n}`} at seq ${cp.seq} (signed ${cp.time}) does not verify: ${bad}`);
      continue;
    }
    valid.push(cp);
    if (cp.seq > scan.lastSeq) {
      if (cp.seq > scan.reachedSeq && (!beyond || cp.seq > beyond.seq)) beyond = cp;
      continue;
    }
    if (cp.seq === 0 || scan.readError) continue;
    if (scan.hashAt.get(cp.seq) !== cp.hash && !problems.hasAtOrBefore(cp.seq)) {
      problems.add(cp.seq, 'changed', `record ${cp.seq} does not match the checkpoint signed at ${cp.time}: records up to ${cp.seq} were rewritten and their hashes recomputed`);
    }
  }
  if (beyond && !scan.readError) {
    problems.add(scan.lastSeq + 1, 'truncated', `the log ends at seq ${scan.lastSeq}, but the checkpoint signed at ${beyond.time} covers seq ${beyond.seq}: records ${scan.lastSeq + 1}..${beyond.seq} were removed`);
  }
  return valid;
}

/** Checks a checkpoint kept outside the database; true when it verifies with the log's key (then it also counts as a known checkpoint). */
function checkExternalCheckpoint(external: ExternalCheckpoint, name: string, key: PublicKeyInfo | null, scan: ScanResult, problems: Problems): boolean {
  const cp = external.checkpoint;
  const bad = checkpointSignatureProblem(cp, external.key);
  if (bad) {
    problems.add(cp.seq, 'bad_signature', `${name} does not verify: ${bad}`);
    return false;
  }
  const sameKey = !key || key.keyId === external.key.keyId;
  if (!sameKey) {
    problems.add(cp.seq, 'bad_signature', `${name} was signed with key ${external.key.keyId}, but this log's key is ${key.keyId}: the log's key pair was replaced, or the file belongs to another log`);
  }
  if (cp.seq > scan.lastSeq) {
    if (!scan.readError && cp.seq > scan.reachedSeq) {
      problems.add(scan.lastSeq + 1, 'truncated', `the log ends at seq ${scan.lastSeq}, but ${name} (signed ${cp.time}) shows it had reached seq ${cp.seq}: records ${scan.lastSeq + 1}..${cp.seq} were removed`, undefined, true);
    }
  } else if (cp.seq > 0 && !scan.readError && scan.hashAt.get(cp.seq) !== cp.hash && !problems.hasAtOrBefore(cp.seq)) {
    problems.add(cp.seq, 'truncated', `record ${cp.seq} differs from ${name} (signed ${cp.time}): the log was rolled back to an earlier state and rewritten from there`);
  }
  return sameKey;
}
