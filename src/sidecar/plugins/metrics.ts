import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { EFFECTS, type Effect } from '../../core/action.js';

/** Auth failure reasons are label values: anything not a short snake_case word is counted as `other`. */
const REASON_RE = /^[a-z][a-z0-9_]{0,31}$/;

/**
 * The sidecar's Prometheus metrics, in a Registry of their own (not prom-client's global one), so several apps in one
 * process (tests) never share or clash over counters.
 *
 * @example
 * const metrics = new SidecarMetrics();
 * metrics.decided('allow', 0.00012);
 * const text = await metrics.registry.metrics();
 */
export class SidecarMetrics {
  readonly registry = new Registry();
  private readonly decisions: Counter<'effect'>;
  private readonly latency: Histogram;
  private readonly reloads: Counter<'result'>;
  private readonly reloadFailures: Counter;
  private readonly authFailures: Counter<'reason'>;
  private readonly notifications: Counter<'channel' | 'result'>;
  readonly inFlight: Gauge;

  constructor() {
    const registers = [this.registry];
    this.decisions = new Counter({ name: 'agentguard_decisions_total', help: 'Decisions answered, by effect.', labelNames: ['effect'], registers });
    for (const effect of EFFECTS) this.decisions.inc({ effect }, 0);
    this.latency = new Histogram({
      name: 'agentguard_decision_duration_seconds',
      help: 'Time to answer POST /v1/decide: policy evaluation plus the durable audit write.',
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers,
    });
    this.reloads = new Counter({ name: 'agentguard_policy_reloads_total', help: 'Policy reloads attempted, by result.', labelNames: ['result'], registers });
    this.reloads.inc({ result: 'ok' }, 0);
    this.reloads.inc({ result: 'failed' }, 0);
    this.reloadFailures = new Counter({
      name: 'agentguard_policy_reload_failures_total',
      help: 'Policy reloads rejected because the new policy was invalid or unreadable; the previous policy stayed in force.',
      registers,
    });
    this.authFailures = new Counter({ name: 'agentguard_auth_failures_total', help: 'Requests refused by authentication (401) or scope (403), by reason.', labelNames: ['reason'], registers });
    this.inFlight = new Gauge({ name: 'agentguard_http_requests_in_flight', help: 'HTTP requests being handled.', registers });
    this.notifications = new Counter({
      name: 'agentguard_approval_notifications_total',
      help: 'Approval notification sends, by channel and result (delivered, retrying, failed).',
      labelNames: ['channel', 'result'],
      registers,
    });
  }

  /** Counts one send of an approval notification. */
  notified(channel: string, result: 'delivered' | 'retrying' | 'failed'): void {
    this.notifications.inc({ channel, result });
  }

  /** Counts a decision and how long it took. */
  decided(effect: Effect, seconds: number): void {
    this.decisions.inc({ effect });
    this.latency.observe(seconds);
  }

  reloaded(ok: boolean): void {
    this.reloads.inc({ result: ok ? 'ok' : 'failed' });
    if (!ok) this.reloadFailures.inc();
  }

  authFailed(reason: string): void {
    this.authFailures.inc({ reason: REASON_RE.test(reason) ? reason : 'other' });
  }
}
