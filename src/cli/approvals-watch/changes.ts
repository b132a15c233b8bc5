import type { ApprovalChange, ApprovalRecord } from '../../core/approvals/types.js';

/**
 * What `approvals watch` reports: the audit trail's change events, plus `pending` for an approval that was already
 * waiting when the watch started.
 */
export type WatchEvent = ApprovalChange['event'] | 'pending';

/** One line of `approvals watch` outside a terminal (and one NDJSON object with --json). */
export interface WatchChange {
  event: WatchEvent;
  approval: ApprovalRecord;
}

/**
 * The changes that turn `before` into `after` (the same approval seen at two polls), in the order they happen:
 * requested (when there was no `before`), escalated, then approved/denied/expired/cancelled, then consumed.
 *
 * @example changesOf(undefined, pendingRecord) // [{ event: 'requested', approval: pendingRecord }]
 */
export function changesOf(before: ApprovalRecord | undefined, after: ApprovalRecord): WatchChange[] {
  const events: WatchEvent[] = [];
  if (before === undefined) events.push('requested');
  if (after.escalatedAt !== null && (before?.escalatedAt ?? null) === null) events.push('escalated');
  if (after.status !== 'pending' && after.status !== (before?.status ?? 'pending')) events.push(after.status);
  if (after.consumedAt !== null && (before?.consumedAt ?? null) === null) events.push('consumed');
  return events.map((event) => ({ event, approval: after }));
}

/**
 * Every change between two polls, oldest request first. `seen` holds the approvals of the previous poll by id;
 * `current` the approvals read now; `vanished` those of `seen` no longer in `current` as they are now (null when they
 * could not be read again). Returns the changes and what to remember for the next poll: the approvals of `current`.
 */
export function diffPolls(
  seen: ReadonlyMap<string, ApprovalRecord>,
  current: readonly ApprovalRecord[],
  vanished: ReadonlyArray<ApprovalRecord | null>,
): { changes: WatchChange[]; seen: Map<string, ApprovalRecord> } {
  const next = new Map(current.map((r) => [r.id, r]));
  const changed = [...current, ...vanished.filter((r): r is ApprovalRecord => r !== null && !next.has(r.id))];
  const changes = oldestFirst(changed).flatMap((r) => changesOf(seen.get(r.id), r));
  return { changes, seen: next };
}

/** Approvals ordered by request time, oldest first (ties by id, so the order is stable). */
export function oldestFirst(records: readonly ApprovalRecord[]): ApprovalRecord[] {
  return [...records].sort((a, b) => a.requestedAt.localeCompare(b.requestedAt) || a.id.localeCompare(b.id));
}
