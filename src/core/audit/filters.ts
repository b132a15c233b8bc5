import { EFFECTS, type Effect } from '../action.js';
import { AgentGuardError } from '../errors.js';
import type { AuditQuery, AuditRecordType } from './types.js';

/** Audit filters as a user typed them (CLI flags now, sidecar query parameters later). */
export interface AuditFilterInput {
  agent?: string;
  effect?: string;
  rule?: string;
  type?: string;
  since?: string;
  until?: string;
  limit?: string | number;
}

export interface ParseFilterOptions {
  /** "Now" for relative times such as `15m` (default: the current time). */
  now?: Date;
  /** How to name a filter in errors; the CLI says `--since`, an HTTP API would say `since`. */
  label?: (name: keyof AuditFilterInput) => string;
}

export const RECORD_TYPES: readonly AuditRecordType[] = ['decision', 'outcome', 'alert', 'approval', 'checkpoint'];

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
const DURATION_RE = /^(?:\d{1,9}[smhdw])+$/;
const DURATION_PART_RE = /(\d{1,9})([smhdw])/g;
const ISO_RE = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?(Z|[+-]\d{2}:?\d{2})?$/i;

const TIME_HELP =
  'Use an ISO 8601 date or time (2025-01-31, 2025-01-31T14:00, 2025-01-31T14:00:00Z; UTC unless it has an offset) or a time back from now: 30s, 15m, 2h, 7d, 2w, 1h30m.';

function usage(message: string, actions: string[]): AgentGuardError {
  return new AgentGuardError('USAGE', message, { actions });
}

function defaultLabel(name: string): string {
  return `--${name}`;
}

/** A duration like `15m`, `2h`, `7d` or `1h30m` in milliseconds, or undefined when `text` is not one. */
export function parseDuration(text: string): number | undefined {
  if (!DURATION_RE.test(text)) return undefined;
  let ms = 0;
  for (const [, amount, unit] of text.matchAll(DURATION_PART_RE)) ms += Number(amount) * UNIT_MS[unit];
  return ms;
}

/** Milliseconds since the epoch for a strict ISO 8601 date or date-time (UTC without an offset), or undefined. */
export function parseIsoTime(text: string): number | undefined {
  const m = ISO_RE.exec(text);
  if (!m) return undefined;
  const [, y, mo, d, h = '0', mi = '0', s = '0', frac = '', zone] = m;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = Number(s);
  if (month < 1 || month > 12 || hour > 23 || minute > 59 || second > 59) return undefined;
  const date = new Date(0);
  // setUTCFullYear, not Date.UTC: Date.UTC reads years 0-99 as 1900-1999.
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, Number(frac.padEnd(3, '0').slice(0, 3)));
  // Dates roll 2025-02-30 over into March; a date that does not exist is a typo, not a wish.
  if (date.getUTCDate() !== day) return undefined;
  const local = date.getTime();
  if (zone === undefined || zone.toUpperCase() === 'Z') return local;
  const sign = zone[0] === '-' ? -1 : 1;
  const digits = zone.slice(1).replace(':', '');
  const offsetMinutes = Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2));
  if (Number(digits.slice(0, 2)) > 23 || Number(digits.slice(2)) > 59) return undefined;
  return local - sign * offsetMinutes * 60_000;
}

/**
 * A time bound as an ISO 8601 UTC string: an ISO date or time, or a duration back from `now`.
 *
 * @example parseTimeBound('15m', '--since', new Date('2025-01-01T12:00:00Z')) // '2025-01-01T11:45:00.000Z'
 */
export function parseTimeBound(value: string, label: string, now: Date = new Date()): string {
  const text = value.trim();
  const duration = parseDuration(text);
  const ms = duration !== undefined ? now.getTime() - duration : parseIsoTime(text);
  if (ms === undefined || !Number.isFinite(ms) || Math.abs(ms) > 8.64e15) {
    throw usage(`${label} ${JSON.stringify(value)} is neither a date, a time nor a duration`, [TIME_HELP]);
  }
  return new Date(ms).toISOString();
}

/** Checks an effect name. */
export function parseEffect(value: string, label = '--effect'): Effect {
  if ((EFFECTS as readonly string[]).includes(value)) return value as Effect;
  throw usage(`${label} ${JSON.stringify(value)} is not an effect`, [`Use one of: ${EFFECTS.join(', ')}.`]);
}

/** Checks a record type name. */
export function parseRecordType(value: string, label = '--type'): AuditRecordType {
  if ((RECORD_TYPES as readonly string[]).includes(value)) return value as AuditRecordType;
  throw usage(`${label} ${JSON.stringify(value)} is not a record type`, [`Use one of: ${RECORD_TYPES.join(', ')}.`]);
}

/** A positive whole number of records. */
export function parseCount(value: string | number, label: string): number {
  const text = String(value).trim();
  const n = /^\d{1,15}$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < 1) throw usage(`${label} ${JSON.stringify(String(value))} is not a whole number of records (1 or more)`, [`For example ${label} 100.`]);
  return n;
}

function nonEmpty(value: string, label: string): string {
  if (value.trim() === '') throw usage(`${label} is empty`, [`Give a value, or leave out ${label}.`]);
  return value;
}

/**
 * Turns user-typed filters into an AuditQuery, checking each one; throws a usage error (exit 2) that names the
 * filter and says what would be accepted. `since` is inclusive and `until` exclusive.
 */
export function parseAuditFilters(input: AuditFilterInput, options: ParseFilterOptions = {}): AuditQuery {
  const label = options.label ?? defaultLabel;
  const now = options.now ?? new Date();
  const query: AuditQuery = {};
  if (input.agent !== undefined) query.agent = nonEmpty(input.agent, label('agent'));
  if (input.rule !== undefined) query.rule = nonEmpty(input.rule, label('rule'));
  if (input.effect !== undefined) query.effect = parseEffect(input.effect, label('effect'));
  if (input.type !== undefined) query.type = parseRecordType(input.type, label('type'));
  if (input.since !== undefined) query.since = parseTimeBound(input.since, label('since'), now);
  if (input.until !== undefined) query.until = parseTimeBound(input.until, label('until'), now);
  if (input.limit !== undefined) query.limit = parseCount(input.limit, label('limit'));
  if (query.since !== undefined && query.until !== undefined && query.since >= query.until) {
    throw usage(`${label('since')} (${query.since}) is not before ${label('until')} (${query.until}), so no record can match`, [
      `${label('since')} is the start (inclusive) and ${label('until')} the end (exclusive) of the time range.`,
    ]);
  }
  return query;
}
