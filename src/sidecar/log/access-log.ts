import type { FastifyInstance } from 'fastify';
import { maskText } from '../../core/audit/mask.js';
import { maskTokens } from '../../core/tokens/token-format.js';

/** Request lines logged per second on average, and in one burst; the rest are counted and reported as a number. */
export const DEFAULT_ACCESS_LOG_RATE = { perSecond: 20, burst: 200 } as const;
/** Longest path written to the log. */
const MAX_LOGGED_PATH = 200;

/**
 * The path of a request as it may be logged: no query string (a token sent as `?token=` must not be written
 * anywhere), at most 200 characters, and token-shaped text in it masked.
 */
export function loggedPath(url: string): string {
  const q = url.search(/[?#]/);
  const path = q < 0 ? url : url.slice(0, q);
  const short = path.length > MAX_LOGGED_PATH ? `${path.slice(0, MAX_LOGGED_PATH)}…` : path;
  return maskTokens(maskText(short));
}

/** A token bucket: `take()` is true while the rate allows another line. */
export class LineBudget {
  private tokens: number;
  private last: number;

  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
    private readonly clock: () => number = () => performance.now(),
  ) {
    this.tokens = burst;
    this.last = clock();
  }

  take(): boolean {
    const now = this.clock();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.perSecond);
    this.last = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

/**
 * One log line per request that was refused or failed (status ≥ 400), at info for 4xx and error for 5xx; every
 * request at debug. Allowed decisions need no log line: each one is already an audit record. Lines are rate-limited
 * (`rate`), so a flood of junk requests, which never reach the audit, cannot fill the disk through the log: lines
 * over the rate are counted and the count is logged with the next line that fits, or within 10 s.
 */
export function registerAccessLog(app: FastifyInstance, rate: { perSecond: number; burst: number } = DEFAULT_ACCESS_LOG_RATE): void {
  const budget = new LineBudget(rate.perSecond, rate.burst);
  let dropped = 0;
  const reportDropped = () => {
    if (dropped === 0) return;
    app.log.warn({ dropped }, `${dropped} request log lines were not written (more than ${rate.perSecond} a second)`);
    dropped = 0;
  };
  const timer = setInterval(reportDropped, 10_000);
  timer.unref();
  app.addHook('onClose', async () => {
    clearInterval(timer);
    reportDropped();
  });
  // A callback hook, not an async one: no promise per request.
  app.addHook('onResponse', (request, reply, done) => {
    const status = reply.statusCode;
    const level = status >= 500 ? 'error' : status >= 400 ? 'info' : 'debug';
    // Lines the logger would drop anyway (debug, by default) do not spend the budget.
    if ((request.log as { isLevelEnabled?: (l: string) => boolean }).isLevelEnabled?.(level) === false) return done();
    if (!budget.take()) {
      dropped++;
      return done();
    }
    reportDropped();
    request.log[level]({ method: request.method.slice(0, 16), path: loggedPath(request.url), status, ms: Number(reply.elapsedTime.toFixed(2)) }, 'request');
    done();
  });
}
