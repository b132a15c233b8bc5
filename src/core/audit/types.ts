import type { Effect } from '../action.js';

/** Kinds of audit records. `decision`: one per decision; `outcome`: what happened when the action ran. */
/** `alert`: a budget threshold crossed (see core/cost); `approval`: a human approval requested or changed (core/approvals). */
/**
 * `checkpoint`: the chain's copy of a signed checkpoint, written by the store as the first record after it (see
 * SqliteAuditStore.append), so that every later record, and the next checkpoint, commits to it.
 */
export type AuditRecordType = 'decision' | 'outcome' | 'alert' | 'approval' | 'checkpoint';

/** What the pipeline hands to the store. Values are already masked (see mask.ts). */
export interface AuditEntry {
  type: AuditRecordType;
  /** ISO 8601 UTC with milliseconds. */
  time: string;
  agentId: string | null;
  decisionId: string | null;
  /** The decision's effect (decision records); null for outcomes. */
  effect: Effect | null;
  /** Rule ids among the decision's reasons, in order. */
  rules: string[];
  /** The masked decision (decision records) or the outcome `{ status, durationMs?, error? }`. */
  data: Record<string, unknown>;
}

/**
 * A stored record. `hash = SHA-256(prevHash ‖ canonicalJson(record without hash))` over the WHOLE record,
 * including seq and prevHash, so changing, removing, inserting or reordering anything breaks the chain.
 */
export interface AuditRecord extends AuditEntry {
  seq: number;
  prevHash: string;
  hash: string;
  /** The instance's chain the record belongs to, in results merged from a store of several chains (PostgreSQL); seq is per chain. */
  chain?: string;
}

/** Why a checkpoint was signed: every N records, T after an unsigned record, on close, at start (unsigned records found), by `audit checkpoint`. */
export type CheckpointReason = 'count' | 'interval' | 'close' | 'start' | 'manual';

/**
 * A signed statement "the chain had `hash` at `seq` at `time`".
 *
 * Linked checkpoints (those with `n`, written since checkpoints are linked) also carry their number, the hash of the
 * checkpoint before them and the signer's promise about the time between an unsigned record and the next checkpoint,
 * all under the signature: a deleted checkpoint leaves a gap in the numbers and the links, and records older than that
 * promise that no checkpoint covers are reported. Checkpoints without `n` are the legacy, unlinked format.
 */
export interface Checkpoint {
  seq: number;
  hash: string;
  time: string;
  /** `sha256:` prefix of the public key's hash, so verifiers pick the right key. */
  keyId: string;
  /**
   * Ed25519 signature (base64) over canonicalJson({ seq, hash, time, keyId }) for legacy checkpoints, and over
   * canonicalJson({ v: 2, n, seq, hash, time, keyId, prev, intervalMs, reason }) for linked ones.
   */
  signature: string;
  /** Linked checkpoints: 1 for the first, then +1 each. */
  n?: number;
  /** Linked checkpoints: checkpointHash() of checkpoint n - 1 (or of the last legacy checkpoint for n = 1), or null. */
  prev?: string | null;
  /** Linked checkpoints: the signer signs at most this long after an unsigned record (0: no time promise). */
  intervalMs?: number;
  reason?: CheckpointReason;
}

export interface AuditQuery {
  agent?: string;
  effect?: Effect;
  rule?: string;
  type?: AuditRecordType;
  decisionId?: string;
  /** ISO 8601; inclusive. */
  since?: string;
  /** ISO 8601; exclusive. */
  until?: string;
  /** Only records with seq greater than this (for tailing). */
  afterSeq?: number;
  /** Newest first when `order` is desc (the default for queries); at most this many. */
  limit?: number;
  order?: 'asc' | 'desc';
}

/**
 * `checkpoint_missing`: a signed checkpoint was deleted (a gap in the numbers or links, or one the chain or the
 * checkpoint next to the key records). `unsigned`: records older than the signer's checkpoint interval (plus slack)
 * that no checkpoint covers.
 */
export type AuditProblemKind =
  | 'changed'
  | 'missing'
  | 'inserted'
  | 'reordered'
  | 'bad_signature'
  | 'truncated'
  | 'unreadable'
  | 'checkpoint_missing'
  | 'unsigned';

export interface AuditProblem {
  seq: number;
  kind: AuditProblemKind;
  message: string;
}

export interface VerifyResult {
  ok: boolean;
  records: number;
  checkpoints: number;
  problems: AuditProblem[];
  /** Present only when more problems were found than listed (verifyAudit's `maxProblems`). */
  omittedProblems?: number;
  /** What verification could not check, or noticed without it being tampering (legacy checkpoints, late signing). */
  notes?: string[];
}
