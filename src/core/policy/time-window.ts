import { luxon } from '../lazy-luxon.js';
import type { Action } from '../action.js';
import type { CondNode } from './conditions.js';
import type { EvalContext } from './eval-context.js';
import type { PathSegment } from './problem.js';

/** Days as a `time` condition names them, in ISO order (luxon's weekday 1 = Monday … 7 = Sunday). */
export const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Day = (typeof DAYS)[number];

/** `time`: true when the decision's time falls in the window, read on the wall clock of `timezone`. */
export interface TimeSpec {
  /** Days the window is open (all when absent). A window crossing midnight belongs to the day it opens on. */
  days?: Day[];
  /** Start (inclusive) and end (exclusive) as HH:MM, 00:00 to 24:00; a start after the end crosses midnight. */
  between?: [string, string];
  /** An IANA time zone such as Europe/Berlin (default UTC). */
  timezone?: string;
}

/** Thrown for a spec the schema accepts but that cannot be used; compile turns it into a problem at `segments`. */
export class TimeSpecError extends Error {
  constructor(
    message: string,
    readonly segments: PathSegment[],
    readonly hint?: string,
  ) {
    super(message);
  }
}

const CLOCK_RE = /^([01]\d|2[0-4]):([0-5]\d)$/;

function minutesOf(text: string, at: PathSegment[]): number {
  const m = CLOCK_RE.exec(text);
  const minutes = m ? Number(m[1]) * 60 + Number(m[2]) : NaN;
  if (!m || minutes > 24 * 60) throw new TimeSpecError(`${JSON.stringify(text)} is not a time of day`, at, 'Write HH:MM on a 24-hour clock, from 00:00 to 24:00, e.g. "09:00" or "18:30".');
  return minutes;
}

/** A compiled window: whether an instant (milliseconds since the epoch) falls in it. */
export interface TimeWindow {
  label: string;
  contains(epochMs: number): boolean;
}

/**
 * Compiles a `time` spec. The window is read on the zone's wall clock (luxon, IANA tz data of the running Node), so
 * "09:00" means 09:00 local time on both sides of a DST change. On the day clocks go forward, a start inside the
 * skipped hour opens the window when the clock jumps past it; on the day they go back, the repeated hour counts
 * twice (both instants read the same wall-clock time).
 */
export function compileTimeWindow(spec: TimeSpec, at: PathSegment[]): TimeWindow {
  const zone = spec.timezone ?? 'UTC';
  if (!luxon().IANAZone.isValidZone(zone)) {
    throw new TimeSpecError(`unknown time zone ${JSON.stringify(zone)}`, [...at, 'timezone'], 'Use an IANA time zone name such as Europe/Berlin, America/New_York or UTC.');
  }
  const days = new Set<number>((spec.days ?? DAYS).map((d) => DAYS.indexOf(d) + 1));
  if (spec.days && days.has(0)) throw new TimeSpecError(`unknown day in ${JSON.stringify(spec.days)}`, [...at, 'days'], `Days are ${DAYS.join(', ')}.`);
  let start = 0;
  let end = 24 * 60;
  if (spec.between) {
    start = minutesOf(spec.between[0], [...at, 'between', 0]);
    end = minutesOf(spec.between[1], [...at, 'between', 1]);
    if (start === 24 * 60) throw new TimeSpecError('a window cannot open at 24:00', [...at, 'between', 0], 'Open it at 00:00 of the next day instead.');
    if (start === end) throw new TimeSpecError('the window opens and closes at the same time', [...at, 'between'], 'Leave out "between" for the whole day.');
  }
  const crossesMidnight = start > end;
  const dayText = spec.days ? spec.days.join(',') : 'every day';
  const label = `time ${dayText}${spec.between ? ` ${spec.between[0]}–${spec.between[1]}` : ''} ${zone}`;
  const clock = wallClock(zone);
  return {
    label,
    contains(epochMs: number): boolean {
      const { minute, weekday } = clock(epochMs);
      if (!crossesMidnight) return minute >= start && minute < end && days.has(weekday);
      if (minute >= start) return days.has(weekday);
      // After midnight: the window opened the day before.
      return minute < end && days.has(weekday === 1 ? 7 : weekday - 1);
    },
  };
}

const QUARTER_MS = 15 * 60_000;
const DAY_MS = 86_400_000;

/**
 * The wall clock of a zone: minute of the day and ISO weekday of an instant. The zone's UTC offset (luxon, from the IANA
 * data of the running Node) is looked up once per 15-minute span of UTC and kept when it is the same at both ends of the
 * span (offsets change months apart, so it is then the same throughout); a span with a change in it is looked up per
 * call. Replaying a day of decisions then asks luxon about a hundred times instead of once per decision.
 */
function wallClock(zone: string): (epochMs: number) => { minute: number; weekday: number } {
  const iana = luxon().IANAZone.create(zone);
  const offsets = new Map<number, number>();
  const offsetAt = (epochMs: number): number => {
    const span = Math.floor(epochMs / QUARTER_MS);
    const cached = offsets.get(span);
    if (cached !== undefined) return cached;
    const first = iana.offset(span * QUARTER_MS);
    if (first !== iana.offset(span * QUARTER_MS + QUARTER_MS - 1)) return iana.offset(epochMs);
    if (offsets.size >= 4096) offsets.clear();
    offsets.set(span, first);
    return first;
  };
  return (epochMs) => {
    const local = epochMs + offsetAt(epochMs) * 60_000;
    const minute = Math.floor((((local % DAY_MS) + DAY_MS) % DAY_MS) / 60_000);
    // 1970-01-01 was a Thursday (ISO weekday 4).
    const weekday = ((((Math.floor(local / DAY_MS) + 3) % 7) + 7) % 7) + 1;
    return { minute, weekday };
  };
}

/** The `time` condition as a node: reads the decision's time (`ctx.now`), or the clock when no time was given. */
export function compileTimeCondition(spec: TimeSpec, at: PathSegment[]): CondNode {
  const window = compileTimeWindow(spec, at);
  return {
    label: window.label,
    test: (_action: Action, ctx?: EvalContext) => window.contains(ctx?.now !== undefined ? ctx.now.getTime() : Date.now()),
  };
}

const clocked = new WeakMap<object, boolean>();

/** True when some rule of the policy has a `time` condition (so a decision needs its time in the context). */
export function readsClock(policy: { rules: ReadonlyArray<{ source: { when?: unknown } }> }): boolean {
  let known = clocked.get(policy);
  if (known === undefined) {
    known = policy.rules.some((r) => hasTime(r.source.when, 0));
    clocked.set(policy, known);
  }
  return known;
}

function hasTime(when: unknown, depth: number): boolean {
  if (when === null || typeof when !== 'object' || depth > 64) return false;
  for (const [key, spec] of Object.entries(when)) {
    if (key === 'time') return true;
    if ((key === 'all' || key === 'any') && Array.isArray(spec) && spec.some((c) => hasTime(c, depth + 1))) return true;
    if (key === 'not' && hasTime(spec, depth + 1)) return true;
  }
  return false;
}
