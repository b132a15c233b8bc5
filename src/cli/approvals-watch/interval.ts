import { parseDuration } from '../../core/audit/filters.js';
import { AgentGuardError } from '../../core/errors.js';

/** The shortest and longest polling intervals `approvals watch --interval` accepts. */
export const MIN_INTERVAL_MS = 100;
export const MAX_INTERVAL_MS = 3_600_000;

/**
 * The `--interval` of `approvals watch` in milliseconds: a duration such as `1s`, `500ms`, `2m` or `1m30s`, between
 * 100ms and 1h. Throws AgentGuardError `INVALID_INTERVAL` (exit 2) for anything else.
 *
 * @example parseInterval('500ms') // 500
 */
export function parseInterval(text: string): number {
  const trimmed = text.trim();
  const ms = /^\d{1,7}ms$/.test(trimmed) ? Number(trimmed.slice(0, -2)) : parseDuration(trimmed);
  if (ms === undefined || !Number.isFinite(ms) || ms < MIN_INTERVAL_MS || ms > MAX_INTERVAL_MS) {
    const why = ms === undefined ? 'is not a duration' : ms < MIN_INTERVAL_MS ? 'is shorter than 100ms' : 'is longer than 1h';
    throw new AgentGuardError('INVALID_INTERVAL', `--interval ${JSON.stringify(text)} ${why}`, {
      actions: ['Pass how often to look for changes, between 100ms and 1h: for example --interval 1s, 500ms, 5s or 1m.'],
    });
  }
  return ms;
}
