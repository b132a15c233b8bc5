import type { FastifyInstance } from 'fastify';
import { Deliverer } from '../../notify/deliverer.js';
import type { SidecarServices } from './services.js';

/**
 * While the sidecar runs: every `tickMs`, expires and escalates pending approvals on time (not only when someone
 * reads them, so the expiry and escalation notifications go out when they happen), and sends queued notifications,
 * retrying failed sends with backoff. Both stop when the app closes.
 */
export function runApprovalTimers(app: FastifyInstance, services: SidecarServices, tickMs: number): void {
  const deliverer = new Deliverer({
    deliveries: services.recorder.store.deliveries,
    channels: services.notify,
    onOutcome: (delivery, outcome) => {
      services.metrics.notified(delivery.channel, outcome.status === 'pending' ? 'retrying' : outcome.status);
      if (outcome.status !== 'delivered') {
        const level = outcome.status === 'failed' ? 'error' : 'warn';
        app.log[level]({ delivery: delivery.id, approval: delivery.approvalId, channel: delivery.channel, attempt: delivery.attempts, error: outcome.error }, 'approval notification not delivered');
      }
    },
  });
  let sweeping: Promise<unknown> | null = null;
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
