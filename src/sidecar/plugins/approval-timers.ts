import type { FastifyInstance } from 'fastify';
import type { DeliveryStore } from '../../core/approvals/deliveries.js';
import { Deliverer } from '../../notify/deliverer.js';
import type { NotifyChannel } from '../../notify/types.js';
import type { SidecarMetrics } from './metrics.js';
import type { SidecarServices } from './services.js';

/** The sidecar's sender of approval notifications: counted in metrics, and every failed send logged. */
export function sidecarDeliverer(app: FastifyInstance, deliveries: DeliveryStore, channels: readonly NotifyChannel[], metrics: SidecarMetrics): Deliverer {
  return new Deliverer({
    deliveries,
    channels,
    onOutcome: (delivery, outcome) => {
      metrics.notified(delivery.channel, outcome.status === 'pending' ? 'retrying' : outcome.status);
      if (outcome.status !== 'delivered') {
        const level = outcome.status === 'failed' ? 'error' : 'warn';
        app.log[level]({ delivery: delivery.id, approval: delivery.approvalId, channel: delivery.channel, attempt: delivery.attempts, error: outcome.error }, 'approval notification not delivered');
      }
    },
  });
}

/**
 * While the sidecar runs: every `tickMs`, expires and escalates pending approvals on time (not only when someone
 * reads them, so the expiry and escalation notifications go out when they happen), and sends queued notifications
 * that are due, retrying failed sends with backoff. At start, queues the notifications a crash left out. All stop
 * when the app closes.
 */
export function runApprovalTimers(app: FastifyInstance, services: SidecarServices, deliverer: Deliverer, tickMs: number): void {
  // First, what a crash of this or another process may have left unqueued.
  let sweeping: Promise<unknown> | null = services.approvals
    .requeueMissing()
    .then((count) => {
      if (count > 0) app.log.warn({ count }, 'queued approval notifications that a crash had left out');
    })
    .catch((error: unknown) => app.log.error({ err: error }, 'could not look for approval notifications left out by a crash'))
    .finally(() => {
      sweeping = null;
    });
  const sweep = setInterval(() => {
    if (sweeping !== null) return;
    sweeping = services.approvals
      .sweep()
      .catch((error: unknown) => app.log.error({ err: error }, 'pending approvals could not be expired or escalated'))
      .finally(() => {
        sweeping = null;
      });
  }, tickMs);
  sweep.unref();
  deliverer.start(tickMs);
  app.addHook('onClose', async () => {
    clearInterval(sweep);
    await sweeping;
    await deliverer.stop();
  });
}
