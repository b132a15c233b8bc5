/** Options of a CircuitBreaker. */
export interface CircuitBreakerOptions {
  /** Consecutive failures that open the circuit (default 5). */
  failureThreshold?: number;
  /** How long an open circuit refuses calls before it lets one trial through, in ms (default 5000). */
  cooldownMs?: number;
  /** Milliseconds clock; injectable for tests (default `Date.now`). */
  now?: () => number;
}

/** What `permit()` answers: go ahead, or refuse at once because the circuit is open. */
export type Permit = { ok: true } | { ok: false; retryInMs: number };

export const DEFAULT_FAILURE_THRESHOLD = 5;
export const DEFAULT_COOLDOWN_MS = 5000;

/**
 * Stops calling a dependency that keeps failing: after `failureThreshold` consecutive failures the circuit opens and
 * every call is refused for `cooldownMs`; then exactly one trial call goes through (half-open). Its success closes the
 * circuit; its failure opens it for another cool-down.
 *
 * @example
 * const breaker = new CircuitBreaker({ failureThreshold: 5, cooldownMs: 5000 });
 * if (!breaker.permit().ok) return denyAtOnce();
 * try { await call(); breaker.success(); } catch { breaker.failure(); }
 */
export class CircuitBreaker {
  readonly failureThreshold: number;
  readonly cooldownMs: number;
  private readonly now: () => number;
  private failures = 0;
  private openedAt: number | undefined;
  private trialInFlight = false;

  constructor(options: CircuitBreakerOptions = {}) {
    this.failureThreshold = options.failureThreshold ?? DEFAULT_FAILURE_THRESHOLD;
    this.cooldownMs = options.cooldownMs ?? DEFAULT_COOLDOWN_MS;
    this.now = options.now ?? Date.now;
    if (!Number.isInteger(this.failureThreshold) || this.failureThreshold < 1) {
      throw new RangeError(`failureThreshold must be a whole number ≥ 1, got ${String(options.failureThreshold)}`);
    }
    if (!Number.isFinite(this.cooldownMs) || this.cooldownMs < 0) {
      throw new RangeError(`cooldownMs must be a number ≥ 0, got ${String(options.cooldownMs)}`);
    }
  }

  /** `closed` (calls go through), `open` (refused), or `half-open` (cool-down over: the next call is the trial). */
  get state(): 'closed' | 'open' | 'half-open' {
    if (this.openedAt === undefined) return 'closed';
    return this.now() - this.openedAt >= this.cooldownMs ? 'half-open' : 'open';
  }

  /** Asks to make a call. In half-open state only one trial is let through until it reports back. */
  permit(): Permit {
    if (this.openedAt === undefined) return { ok: true };
    const waited = this.now() - this.openedAt;
    if (waited < this.cooldownMs) return { ok: false, retryInMs: this.cooldownMs - waited };
    if (this.trialInFlight) return { ok: false, retryInMs: 0 };
    this.trialInFlight = true;
    return { ok: true };
  }

  /** Reports a successful call: closes the circuit. */
  success(): void {
    this.failures = 0;
    this.openedAt = undefined;
    this.trialInFlight = false;
  }

  /** Reports a failed call: opens the circuit at the threshold, or again after a failed trial. */
  failure(): void {
    this.failures += 1;
    if (this.trialInFlight || this.failures >= this.failureThreshold) {
      this.openedAt = this.now();
      this.trialInFlight = false;
    }
  }
}
