import type { Approvals } from '../approvals/service.js';
import type { AuditRecorder } from '../audit/recorder.js';
import type { EngineNotifications, NotificationSender } from './types.js';

/**
 * The approvals of an engine over an open recorder: changes audited in its trail and queued for the notification
 * channels, kicking the sender (built here from `notifications.sender`) when one is queued. openEngine uses it, and
 * so do the approvals commands, which decide approvals without a policy.
 */
export async function openApprovals(
  recorder: AuditRecorder,
  notifications: EngineNotifications | undefined,
  now?: () => Date,
): Promise<{ approvals: Approvals; sender: NotificationSender | undefined }> {
  const { Approvals } = await import('../approvals/service.js');
  const sender = notifications?.sender?.(recorder.store.deliveries);
  const approvals = new Approvals(recorder.store.approvals, recorder, now, {
    deliveries: recorder.store.deliveries,
    channels: notifications?.subscriptions ?? [],
    ...(sender ? { onQueued: () => sender.kick() } : {}),
  });
  return { approvals, sender };
}
