import type { Action } from '../action.js';

/**
 * Human approvals of `require_approval` decisions. An approval is bound to the exact action it was asked for (a hash
 * of the canonical action, agent included); every change is an audit record; a timeout is a terminal deny.
 */
export type ApprovalStatus = 'pending' | 'approved' | 'denied' | 'expired' | 'cancelled';

/** The `approval` block of a rule with effect `require_approval`, with defaults filled in. */
export interface ApprovalSpec {
  /** How long a person has to decide, in milliseconds (policy: a duration such as "15m"). */
  timeoutMs: number;
  /** Who may decide (free text: user names, emails, groups); empty means any admin. */
  approvers: string[];
  /** What a timeout means: always deny. */
  onTimeout: 'deny';
  /** When, after the request, the approval is escalated to `escalateTo` (ms); absent means never. */
  escalateAfterMs?: number;
  escalateTo: string[];
}

export interface ApprovalRecord {
  /** `apr_<32 hex>`. */
  id: string;
  /** The require_approval decision that asked for it. */
  decisionId: string;
  /** SHA-256 of the canonical JSON of the action (agent included) the approval is for. */
  actionHash: string;
  agentId: string | null;
  /** The action as the decision had it, secrets masked (for people to read). */
  action: Action;
  /** The rules that required approval. */
  rules: string[];
  /** Why, as the rules say it. */
  reason: string;
  requestedAt: string;
  expiresAt: string;
  escalateAt: string | null;
  approvers: string[];
  escalateTo: string[];
  escalatedAt: string | null;
  status: ApprovalStatus;
  decidedAt: string | null;
  decidedBy: string | null;
  comment: string | null;
  /** When the approved action was run (an approval authorises one run). */
  consumedAt: string | null;
}

/** How one approval changed, as recorded in the audit trail (`type: "approval"`). */
export interface ApprovalChange {
  approval: ApprovalRecord;
  /** What happened: requested, approved, denied, expired, cancelled, escalated, consumed. */
  event: 'requested' | 'approved' | 'denied' | 'expired' | 'cancelled' | 'escalated' | 'consumed';
}

export interface ApprovalStore {
  /** Stores a new pending approval. */
  create(record: ApprovalRecord): Promise<void>;
  get(id: string): Promise<ApprovalRecord | null>;
  byDecision(decisionId: string): Promise<ApprovalRecord | null>;
  list(filter?: { status?: ApprovalStatus; limit?: number }): Promise<ApprovalRecord[]>;
  /**
   * Decides a pending approval, atomically: only from `pending` and only before it expires (past its expiry it is
   * marked expired instead, and that is returned). Returns the record as it is afterwards.
   */
  decide(id: string, decision: { status: 'approved' | 'denied' | 'cancelled'; by: string; comment?: string; at: string }): Promise<ApprovalRecord | null>;
  /** Marks every pending approval whose expiry is at or before `now` as expired; returns them. */
  expireDue(now: string): Promise<ApprovalRecord[]>;
  /** Marks every pending approval whose escalation time has come as escalated (once); returns them. */
  escalateDue(now: string): Promise<ApprovalRecord[]>;
  /**
   * Marks an approved approval as used by a run of exactly this action: true once; false when it is not approved,
   * already consumed, or for another action (hash mismatch).
   */
  consume(id: string, actionHash: string, at: string): Promise<boolean>;
}
