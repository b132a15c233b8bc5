import { randomBytes } from 'node:crypto';
import type { ApprovalChange, ApprovalRecord } from './types.js';

/**
 * The outbox of approval notifications: one row per change and channel, written when the change is recorded and
 * sent (and retried) by whichever process runs a deliverer (the sidecar, or the CLI right after it decides). Rows
 * are never deleted, so every delivery, failed ones included, stays visible (`agentguard approvals deliveries`).
 */
export type DeliveryStatus = 'pending' | 'delivered' | 'failed';

export interface DeliveryRecord {
  /** `dlv_<32 hex>`: also sent to the receiver, which can use it to drop duplicates. */
  id: string;
  approvalId: string;
  /** The channel's name in the config. */
  channel: string;
  event: ApprovalChange['event'];
  /** The change as it was when it happened (secrets masked); the message is built from it. */
  change: ApprovalChange;
  status: DeliveryStatus;
  /** Sends tried so far. */
  attempts: number;
  createdAt: string;
  /** When the next send is due (pending only). */
  nextAttemptAt: string;
  lastAttemptAt: string | null;
  /** HTTP status of the last answer, if one came. */
  lastStatus: number | null;
  /** Why the last send failed (never a URL or a secret). */
  lastError: string | null;
  deliveredAt: string | null;
}

/** How one send ended, as the deliverer reports it to the store. */
export type DeliveryOutcome =
  | { status: 'delivered'; at: string; httpStatus: number | null }
  | { status: 'pending'; at: string; httpStatus: number | null; error: string; nextAttemptAt: string }
  | { status: 'failed'; at: string; httpStatus: number | null; error: string };

export interface DeliveryStore {
  /** Adds new pending deliveries. */
  enqueue(records: DeliveryRecord[]): Promise<void>;
  /**
   * Takes up to `limit` pending deliveries of `channels` due at `now` that no other process holds, holding them until
   * `leaseUntil` and counting the attempt, atomically, so two deliverers never send the same row at once.
   */
  claimDue(now: string, leaseUntil: string, limit: number, channels: readonly string[]): Promise<DeliveryRecord[]>;
  /** Records how a claimed send ended and releases the hold. */
  finish(id: string, outcome: DeliveryOutcome): Promise<void>;
  /** Deliveries, newest first, optionally of one approval or status. */
  list(filter?: { approvalId?: string; status?: DeliveryStatus; limit?: number }): Promise<DeliveryRecord[]>;
  /** Puts failed deliveries (all, or those ids) back to pending, due at `now`, with a fresh count of attempts; returns how many. */
  retryFailed(now: string, ids?: readonly string[]): Promise<number>;
}

/** A channel as the outbox needs to know it: its name and the events it asked for. */
export interface ChannelSubscription {
  name: string;
  events: readonly ApprovalChange['event'][];
}

/** Where changes are queued for notification: the outbox and the channels configured. */
export interface ApprovalOutbox {
  deliveries: DeliveryStore;
  channels: readonly ChannelSubscription[];
  /** Told after deliveries were queued, so a deliverer in this process can send them at once. */
  onQueued?: () => void;
}

/** The new pending deliveries for `changes`: one per change and channel that asked for its event, due at once. */
export function deliveriesFor(changes: readonly ApprovalChange[], channels: readonly ChannelSubscription[], now: string): DeliveryRecord[] {
  return changes.flatMap((change) =>
    channels
      .filter((channel) => channel.events.includes(change.event))
      .map((channel) => ({
        id: `dlv_${randomBytes(16).toString('hex')}`,
        approvalId: change.approval.id,
        channel: channel.name,
        event: change.event,
        change,
        status: 'pending' as const,
        attempts: 0,
        createdAt: now,
        nextAttemptAt: now,
        lastAttemptAt: null,
        lastStatus: null,
        lastError: null,
        deliveredAt: null,
      })),
  );
}

/** The event that brought an approval to where it is now: consumed, its final status, escalated, or requested. */
export function latestEvent(approval: ApprovalRecord): ApprovalChange['event'] {
  if (approval.consumedAt !== null) return 'consumed';
  if (approval.status !== 'pending') return approval.status;
  return approval.escalatedAt !== null ? 'escalated' : 'requested';
}

/**
 * The deliveries a crash may have left unqueued: for each approval, its latest change (see latestEvent), for each
 * channel that asked for that event and has no delivery of it yet. Only the latest change is sent again: a message
 * about an earlier state (Approve buttons on an approval already decided) would mislead.
 */
export function missingDeliveries(
  approvals: readonly ApprovalRecord[],
  queued: ReadonlyMap<string, readonly DeliveryRecord[]>,
  channels: readonly ChannelSubscription[],
  now: string,
): DeliveryRecord[] {
  return approvals.flatMap((approval) => {
    const event = latestEvent(approval);
    const have = queued.get(approval.id) ?? [];
    const wanting = channels.filter((c) => c.events.includes(event) && !have.some((d) => d.channel === c.name && d.event === event));
    return deliveriesFor([{ event, approval }], wanting, now);
  });
}
