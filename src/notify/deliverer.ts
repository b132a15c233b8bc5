import type { DeliveryOutcome, DeliveryRecord, DeliveryStore } from '../core/approvals/deliveries.js';
import { sendDelivery, type SendOptions } from './send.js';
import type { DeliveryRequest, DeliveryResult, NotifyChannel } from './types.js';

/** Sends tried before a delivery is marked failed (it then stays visible and can be retried by hand). */
export const DEFAULT_MAX_ATTEMPTS = 8;
/** How long a claimed delivery is held: longer than one send can take, so no other deliverer sends it meanwhile. */
const LEASE_MS = 60_000;
const FIRST_RETRY_MS = 5_000;
const MAX_RETRY_MS = 30 * 60_000;
const MAX_RETRY_AFTER_MS = 60 * 60_000;
const BATCH = 16;

export interface DelivererOptions {
  deliveries: DeliveryStore;
  channels: readonly NotifyChannel[];
  maxAttempts?: number;
  now?: () => Date;
  /** Sends one delivery (default sendDelivery); tests may slow it down or count calls. */
  send?: (request: DeliveryRequest, options?: SendOptions) => Promise<DeliveryResult>;
  sendOptions?: SendOptions;
  /** Told of every send's outcome (metrics, logs); must not throw. */
  onOutcome?: (delivery: DeliveryRecord, outcome: DeliveryOutcome) => void;
}

/** The wait before attempt `attempts + 1`: 5 s, 10 s, 20 s… up to 30 min, or longer when the receiver asked (Retry-After, capped at 1 h). */
export function retryDelayMs(attempts: number, retryAfterMs?: number): number {
  const backoff = Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** Math.max(0, attempts - 1));
  return Math.max(backoff, Math.min(retryAfterMs ?? 0, MAX_RETRY_AFTER_MS));
}

/**
 * Sends the approval notifications waiting in the outbox: claims what is due, sends each once, and records the
 * outcome: delivered; pending again with a later due time (a retryable failure); or failed, after `maxAttempts` or
 * an answer that retrying cannot fix. Several processes may run one on the same store: claims never overlap, and each
 * takes only deliveries of the channels it knows (a process without a channel's secret leaves them to one that has it).
 *
 * @example
 * const deliverer = new Deliverer({ deliveries: store.deliveries, channels });
 * deliverer.start(1_000); // the sidecar; the CLI calls `await deliverer.runOnce()` instead
 * await deliverer.stop();
 */
export class Deliverer {
  private readonly options: DelivererOptions;
  private readonly maxAttempts: number;
  private readonly now: () => Date;
  private readonly byName: Map<string, NotifyChannel>;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = false;

  constructor(options: DelivererOptions) {
    this.options = options;
    this.maxAttempts = options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
    this.now = options.now ?? (() => new Date());
    this.byName = new Map(options.channels.map((c) => [c.name, c]));
  }

  /** Sends everything due now (in batches until none is left); returns how each ended. */
  async runOnce(): Promise<{ delivered: number; retrying: number; failed: number }> {
    const tally = { delivered: 0, retrying: 0, failed: 0 };
    if (this.byName.size === 0) return tally;
    for (;;) {
      const now = this.now();
      const leaseUntil = new Date(now.getTime() + LEASE_MS).toISOString();
      const claimed = await this.options.deliveries.claimDue(now.toISOString(), leaseUntil, BATCH, [...this.byName.keys()]);
      if (claimed.length === 0) return tally;
      const outcomes = await Promise.all(claimed.map((delivery) => this.deliver(delivery)));
      for (const outcome of outcomes) tally[outcome.status === 'pending' ? 'retrying' : outcome.status] += 1;
    }
  }

  /** Runs `runOnce` every `intervalMs` until stopped; the timer does not keep the process alive. */
  start(intervalMs = 1_000): void {
    if (this.timer !== null || this.byName.size === 0) return;
    this.timer = setInterval(() => this.kick(), intervalMs);
    this.timer.unref();
  }

  /** Sends what is due soon, in the background (never two runs at once; a kick during a run asks for one more). */
  kick(): void {
    if (this.byName.size === 0 || this.stopped) return;
    if (this.running !== null) {
      this.again = true;
      return;
    }
    this.running = (async () => {
      do {
        this.again = false;
        await this.runOnce().catch((error: unknown) =>
          process.emitWarning(`agentguard: approval notifications could not be sent: ${(error as Error).message}`, { code: 'AGENTGUARD_NOTIFY' }),
        );
      } while (this.again && !this.stopped);
    })().finally(() => {
      this.running = null;
    });
  }

  /** Waits for the run in progress, if any (sends already started finish). */
  async idle(): Promise<void> {
    while (this.running !== null) await this.running;
  }

  /** Stops the timer and waits for a run in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    await this.idle();
  }

  private async deliver(delivery: DeliveryRecord): Promise<DeliveryOutcome> {
    // Claimed by name, so the channel is known here.
    const channel = this.byName.get(delivery.channel)!;
    const send = this.options.send ?? sendDelivery;
    const result = await send({ id: delivery.id, channel, change: delivery.change, attempt: delivery.attempts }, this.options.sendOptions);
    const at = this.now();
    const httpStatus = result.status ?? null;
    const error = result.error ?? 'failed';
    let outcome: DeliveryOutcome;
    if (result.ok) outcome = { status: 'delivered', at: at.toISOString(), httpStatus };
    else if (!result.retryable || delivery.attempts >= this.maxAttempts) {
      const why = result.retryable ? `${error} (gave up after ${delivery.attempts} attempts)` : error;
      outcome = { status: 'failed', at: at.toISOString(), httpStatus, error: why };
    } else {
      const next = new Date(at.getTime() + retryDelayMs(delivery.attempts, result.retryAfterMs));
      outcome = { status: 'pending', at: at.toISOString(), httpStatus, error, nextAttemptAt: next.toISOString() };
    }
    await this.options.deliveries.finish(delivery.id, outcome);
    this.options.onOutcome?.(delivery, outcome);
    return outcome;
  }
}
