import { createHash, randomBytes } from 'node:crypto';
import type { Action, Decision } from '../action.js';
import { maskSecrets, maskText } from '../audit/mask.js';
import { parseDuration as parseDurationOrUndefined } from '../audit/filters.js';
import type { AuditEntry } from '../audit/types.js';
import { canonicalJson } from '../canonical-json.js';
import { AgentGuardError } from '../errors.js';
import type { AuditSink } from '../audit/sink.js';
import { deliveriesFor, missingDeliveries, type ApprovalOutbox } from './deliveries.js';
import { mayDecide } from './entitlement.js';
import type { ApprovalChange, ApprovalRecord, ApprovalSpec, ApprovalStatus, ApprovalStore } from './types.js';

/**
 * The hash an approval is bound to: hex SHA-256 of the canonical JSON (RFC 8785) of the action's agent id, kind, name,
 * input and context. Any change to one of them (another agent, other arguments) gives another hash, so an approval
 * never authorises anything but the exact action it was asked for.
 *
 * @example actionHash({ agent: { id: 'bot' }, kind: 'tool', name: 'payments.transfer', input: { amount: 5000 } })
 */
export function actionHash(action: Action): string {
  const { kind, name, input, context } = action;
  return createHash('sha256').update(canonicalJson({ agent: action.agent?.id ?? null, kind, name, input, context })).digest('hex');
}

/**
 * A duration such as `30s`, `15m`, `2h`, `1d`, `1w` or `1h30m`, in milliseconds (the same syntax as the audit filters'
 * relative times). Throws AgentGuardError `INVALID_DURATION` (exit 2) for anything else, and for a zero duration.
 *
 * @example parseDuration('1h30m') // 5_400_000
 */
export function parseDuration(text: string): number {
  const ms = typeof text === 'string' ? parseDurationOrUndefined(text) : undefined;
  if (ms === undefined || ms <= 0) {
    throw new AgentGuardError('INVALID_DURATION', `${JSON.stringify(text)} is not a duration`, {
      actions: ['Write a whole number followed by s, m, h, d or w, or several of them: 30s, 15m, 2h, 1d, 1h30m.'],
    });
  }
  return ms;
}

/** Thrown by `Approvals.decide` when the approval is no longer pending; `approval` is the record as it is. */
export class ApprovalClosedError extends AgentGuardError {
  readonly approval: ApprovalRecord;

  constructor(approval: ApprovalRecord) {
    super('APPROVAL_CLOSED', `approval ${approval.id} is already ${approval.status}${closedBy(approval)}; it can no longer be decided`, {
      actions: [
        approval.status === 'expired'
          ? 'A timeout is a final deny. Run the action again to ask for a new approval.'
          : `See it with \`agentguard approvals show ${approval.id}\`.`,
      ],
    });
    this.approval = approval;
  }
}

function closedBy(r: ApprovalRecord): string {
  const by = r.decidedBy === null ? '' : ` by ${r.decidedBy}`;
  const at = r.decidedAt === null ? '' : ` at ${r.decidedAt}`;
  return `${by}${at}`;
}

const DECIDED = new Set(['approved', 'denied', 'cancelled']);

/**
 * Human approvals of `require_approval` decisions: asking, deciding, timing out, escalating and using them, each change
 * recorded as one audit entry (`type: "approval"`) after the store has committed it.
 *
 * @example
 * const approvals = new Approvals(store.approvals, recorder);
 * const pending = await approvals.request(decision, { timeoutMs: parseDuration('15m'), approvers: [], onTimeout: 'deny', escalateTo: [] });
 * await approvals.decide(pending.id, { status: 'approved', by: 'alice' });
 * if (await approvals.consume(pending.id, decision.action)) run(decision.action);
 */
export class Approvals {
  private readonly store: ApprovalStore;
  private readonly audit: AuditSink;
  private readonly now: () => Date;
  private readonly outbox: ApprovalOutbox | undefined;

  /** With `outbox`, every recorded change is also queued for the channels that asked for its event. */
  constructor(store: ApprovalStore, audit: AuditSink, now: () => Date = () => new Date(), outbox?: ApprovalOutbox) {
    this.store = store;
    this.audit = audit;
    this.now = now;
    this.outbox = outbox;
  }

  /**
   * Asks for an approval of a require_approval decision: a pending record bound to `actionHash(decision.action)`,
   * expiring `spec.timeoutMs` from now. A decision that already has one (a retry) gets that record back, whatever its
   * status, and nobody is asked again.
   */
  async request(decision: Decision, spec: ApprovalSpec): Promise<ApprovalRecord> {
    const existing = await this.store.byDecision(decision.id);
    if (existing !== null) return existing;
    if (decision.effect !== 'require_approval') {
      throw new AgentGuardError('APPROVAL_NOT_REQUIRED', `decision ${decision.id} is ${decision.effect}, not require_approval; only those ask for an approval`);
    }
    checkSpec(spec);
    const requested = this.now();
    const reasons = decision.reasons.filter((r) => r.effect === 'require_approval');
    const agent = decision.action.agent?.id;
    const record: ApprovalRecord = {
      id: `apr_${randomBytes(16).toString('hex')}`,
      decisionId: decision.id,
      actionHash: actionHash(decision.action),
      agentId: typeof agent === 'string' ? maskText(agent) : null,
      action: maskSecrets(decision.action),
      rules: reasons.flatMap((r) => (r.rule === undefined ? [] : [r.rule])),
      reason: maskText(reasons.map((r) => r.message).join('; ')),
      requestedAt: requested.toISOString(),
      expiresAt: new Date(requested.getTime() + spec.timeoutMs).toISOString(),
      escalateAt: spec.escalateAfterMs === undefined ? null : new Date(requested.getTime() + spec.escalateAfterMs).toISOString(),
      approvers: [...spec.approvers],
      escalateTo: [...spec.escalateTo],
      escalatedAt: null,
      status: 'pending',
      decidedAt: null,
      decidedBy: null,
      comment: null,
      consumedAt: null,
    };
    try {
      await this.store.create(record);
    } catch (error) {
      // Another process asked for the same decision at the same moment: its record is the one.
      const raced = await this.store.byDecision(decision.id);
      if (raced !== null) return raced;
      throw error;
    }
    await this.record([{ event: 'requested', approval: record }]);
    return record;
  }

  /**
   * Approves, denies or cancels a pending approval as `by`. Throws `APPROVAL_NOT_FOUND` (exit 1) for an unknown id,
   * `APPROVAL_CLOSED` (ApprovalClosedError, exit 1) when it is no longer pending (including when it expired just now),
   * and `APPROVAL_BY_REQUIRED` (exit 2) without a name. With `listedOnly` (approver tokens, Slack), `by` or one of
   * `identities` must be one the rule lists (see mayDecide), else `APPROVER_NOT_LISTED` (exit 1).
   */
  async decide(
    id: string,
    decision: { status: 'approved' | 'denied' | 'cancelled'; by: string; comment?: string; listedOnly?: boolean; identities?: readonly string[] },
  ): Promise<ApprovalRecord> {
    const by = typeof decision.by === 'string' ? decision.by.trim() : '';
    if (by === '') {
      throw new AgentGuardError('APPROVAL_BY_REQUIRED', 'who decides the approval must be named', {
        actions: ['Pass the name of the person deciding (the CLI takes --by NAME, default $USER).'],
      });
    }
    if (!DECIDED.has(decision.status)) {
      throw new AgentGuardError('USAGE', `an approval can be approved, denied or cancelled, not ${JSON.stringify(decision.status)}`);
    }
    await this.sweep();
    const before = await this.store.get(id);
    if (before === null) throw notFound(id);
    if (before.status !== 'pending') throw new ApprovalClosedError(before);
    if (decision.listedOnly === true && !mayDecide(before, [by, ...(decision.identities ?? [])])) throw notListed(before, by);
    const at = this.now().toISOString();
    // Both are typed by a person or sent by a client: stored (and shown, exported, notified) with secrets masked.
    const comment = decision.comment === undefined || decision.comment === '' ? undefined : maskText(decision.comment);
    const storedBy = maskText(by);
    const after = await this.store.decide(id, { status: decision.status, by: storedBy, comment, at });
    if (after === null) throw notFound(id);
    // The store says only how the record is afterwards. It was pending just before, so a change stamped with this
    // call's time (and name) is this call's own; anything else was done by another process in between.
    if (after.status === decision.status && after.decidedAt === at && after.decidedBy === storedBy) {
      await this.record([{ event: decision.status, approval: after }]);
      return after;
    }
    // Expired by this very call (still pending, but past its expiry by now): record that, then refuse.
    if (after.status === 'expired' && after.decidedAt === at) await this.record([{ event: 'expired', approval: after }]);
    throw new ApprovalClosedError(after);
  }

  /** Expires every pending approval past its expiry and escalates those whose time has come; records each change. */
  async sweep(): Promise<{ expired: ApprovalRecord[]; escalated: ApprovalRecord[] }> {
    const now = this.now().toISOString();
    const expired = await this.store.expireDue(now);
    const escalated = await this.store.escalateDue(now);
    await this.record([
      ...expired.map((approval): ApprovalChange => ({ event: 'expired', approval })),
      ...escalated.map((approval): ApprovalChange => ({ event: 'escalated', approval })),
    ]);
    return { expired, escalated };
  }

  /** One approval as it is now (swept first, so an expired approval never reads as pending); null when unknown. */
  async get(id: string): Promise<ApprovalRecord | null> {
    await this.sweep();
    return this.store.get(id);
  }

  /** Approvals, newest request first (swept first). */
  async list(filter: { status?: ApprovalStatus; limit?: number } = {}): Promise<ApprovalRecord[]> {
    await this.sweep();
    return this.store.list(filter);
  }

  /**
   * Uses an approval to run `action`: true exactly once, for an approved approval of this very action (same agent,
   * kind, name, input and context); false otherwise. Run the action only on true.
   */
  async consume(id: string, action: Action): Promise<boolean> {
    const ok = await this.store.consume(id, actionHash(action), this.now().toISOString());
    if (!ok) return false;
    const approval = await this.store.get(id);
    if (approval !== null) await this.record([{ event: 'consumed', approval }]);
    return true;
  }

  /**
   * Queues the notifications a crash between storing a change and queuing it left out: the latest change of every
   * approval still pending or changed within `withinMs`, for each channel without a delivery of it. For the sidecar
   * to run at start. Returns how many were queued.
   */
  async requeueMissing(withinMs = 3_600_000): Promise<number> {
    if (!this.outbox || this.outbox.channels.length === 0) return 0;
    const now = this.now();
    const since = new Date(now.getTime() - withinMs).toISOString();
    const recent = (await this.list({ limit: 1000 })).filter(
      (a) => a.status === 'pending' || [a.decidedAt, a.consumedAt, a.escalatedAt].some((t) => t !== null && t >= since),
    );
    const queued = new Map(await Promise.all(recent.map(async (a) => [a.id, await this.outbox!.deliveries.list({ approvalId: a.id })] as const)));
    const missing = missingDeliveries(recent.map((a) => maskSecrets(a)), queued, this.outbox.channels, now.toISOString());
    await this.outbox.deliveries.enqueue(missing);
    if (missing.length > 0) this.outbox.onQueued?.();
    return missing.length;
  }

  private async record(changes: ApprovalChange[]): Promise<void> {
    if (changes.length === 0) return;
    const time = this.now().toISOString();
    await this.audit.append(changes.map((change) => approvalEntry(change, time)));
    if (this.outbox && this.outbox.channels.length > 0) {
      const masked = changes.map((change) => ({ event: change.event, approval: maskSecrets(change.approval) }));
      const queued = deliveriesFor(masked, this.outbox.channels, time);
      await this.outbox.deliveries.enqueue(queued);
      if (queued.length > 0) this.outbox.onQueued?.();
    }
  }
}

/** The audit entry of one change: the record with secrets masked (its action already is; the comment may not be). */
export function approvalEntry(change: ApprovalChange, time: string): AuditEntry {
  const approval = maskSecrets(change.approval);
  return {
    type: 'approval',
    time,
    agentId: approval.agentId,
    decisionId: approval.decisionId,
    effect: null,
    rules: [...approval.rules],
    data: { event: change.event, approval: approval as unknown as Record<string, unknown> },
  };
}

function notListed(approval: ApprovalRecord, by: string): AgentGuardError {
  const names = [...approval.approvers, ...(approval.escalatedAt === null ? [] : approval.escalateTo)];
  return new AgentGuardError('APPROVER_NOT_LISTED', `${JSON.stringify(by)} may not decide approval ${approval.id}: its rule lists ${names.map((n) => JSON.stringify(n)).join(', ')}`, {
    actions: ['Ask one of the listed approvers, or an admin, to decide it.'],
  });
}

function notFound(id: string): AgentGuardError {
  return new AgentGuardError('APPROVAL_NOT_FOUND', `no approval with id ${JSON.stringify(id)}`, {
    actions: ['List the approvals with `agentguard approvals list`; if the data lives elsewhere, pass --data-dir <folder>.'],
  });
}

/** The longest timeout or escalation delay accepted, so every computed time stays a valid date. */
const MAX_MS = 100 * 366 * 86_400_000;

function checkSpec(spec: ApprovalSpec): void {
  const bad = (why: string) => new AgentGuardError('APPROVAL_SPEC_INVALID', `approval spec: ${why}`);
  if (!(Number.isSafeInteger(spec.timeoutMs) && spec.timeoutMs > 0 && spec.timeoutMs <= MAX_MS)) {
    throw bad(`timeoutMs must be a positive whole number of milliseconds (at most 100 years), got ${String(spec.timeoutMs)}`);
  }
  if (spec.escalateAfterMs !== undefined && !(Number.isSafeInteger(spec.escalateAfterMs) && spec.escalateAfterMs >= 0 && spec.escalateAfterMs <= MAX_MS)) {
    throw bad(`escalateAfterMs must be a whole number of milliseconds, got ${String(spec.escalateAfterMs)}`);
  }
  if (spec.onTimeout !== 'deny') throw bad(`onTimeout must be "deny", got ${JSON.stringify(spec.onTimeout)}`);
  for (const [name, list] of [['approvers', spec.approvers], ['escalateTo', spec.escalateTo]] as const) {
    if (!Array.isArray(list) || list.some((s) => typeof s !== 'string')) throw bad(`${name} must be a list of names`);
  }
}
