import type { Effect } from '../action.js';

/** Kinds of audit records. `decision`: one per decision; `outcome`: what happened when the action ran. */
/** `alert`: a budget threshold crossed (see core/cost); `approval`: a human approval requested or changed (core/approvals). */
export type AuditRecordType = 'decision' | 'outcome' | 'alert' | 'approval';

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
}

/** A signed statement "the chain had `hash` at `seq` at `time`". */
export interface Checkpoint {
  seq: number;
  hash: string;
  time: string;
  /** `sha256:` prefix of the public key's hash, so verifiers pick the right key. */
  keyId: string;
  /** Ed25519 signature (base64) over canonicalJson({ seq, hash, time, keyId }). */
  signature: string;
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

export type AuditProblemKind = 'changed' | 'missing' | 'inserted' | 'reordered' | 'bad_signature' | 'truncated' | 'unreadable';

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
}
