import { describe, expect, it } from 'vitest';
import { checkBudgets, MAX_LIMIT_USD, periodOf, windowsFor } from '../src/core/cost/budgets.js';
import type { BudgetConfig, CostScope } from '../src/core/cost/types.js';
import { AgentGuardError } from '../src/core/errors.js';

const WHERE = 'agentguard.config.json: cost.budgets';

function errorOf(fn: () => unknown): AgentGuardError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(AgentGuardError);
    return error as AgentGuardError;
  }
  throw new Error('expected an error');
}

const ok = { scope: 'global', period: 'month', limitUsd: 10 };

describe('checkBudgets', () => {
  it('fills in defaults: name, UTC, alerts at 50/80/100%', () => {
    expect(checkBudgets([ok, { scope: 'agent', id: 'bot', period: 'day', limitUsd: 2.5, alertAt: [1, 0.25, 0.25], timezone: 'Europe/Berlin', webhook: 'https://hooks.example.com/x' }], WHERE)).toEqual([
      { name: 'global:month', scope: 'global', period: 'month', limitUsd: 10, timezone: 'UTC', alertAt: [0.5, 0.8, 1] },
      { name: 'agent:bot:day', scope: 'agent', id: 'bot', period: 'day', limitUsd: 2.5, timezone: 'Europe/Berlin', alertAt: [0.25, 1], webhook: 'https://hooks.example.com/x' },
    ]);
    expect(checkBudgets([], WHERE)).toEqual([]);
    expect(checkBudgets([{ ...ok, name: 'Company' }], WHERE)[0].name).toBe('Company');
  });

  const cases: [string, unknown, string][] = [
    ['not an array', { scope: 'global' }, `${WHERE} must be an array of budgets`],
    ['not an object', [ok, 'global'], `${WHERE}[1] must be an object`],
    ['unknown field', [{ ...ok, limit: 5 }], `${WHERE}[0] has an unknown field "limit"`],
    ['bad scope', [{ ...ok, scope: 'team' }], `${WHERE}[0].scope must be one of global, project, agent, user, session (got "team")`],
    ['missing scope', [{ period: 'day', limitUsd: 1 }], `${WHERE}[0].scope must be one of global, project, agent, user, session (got undefined)`],
    ['bad period', [ok, { ...ok, period: 'day' }, { ...ok, period: 'hour' }], `${WHERE}[2].period must be one of day, week, month, total (got "hour")`],
    ['id on global', [{ ...ok, id: 'x' }], `${WHERE}[0].id is not allowed when scope is global`],
    ['empty id', [{ ...ok, scope: 'agent', id: '' }], `${WHERE}[0].id must be a non-empty string`],
    ['zero limit', [{ ...ok, limitUsd: 0 }], `${WHERE}[0].limitUsd must be a number of US dollars above 0 (got 0)`],
    ['negative limit', [{ ...ok, limitUsd: -3 }], `${WHERE}[0].limitUsd must be a number of US dollars above 0 (got -3)`],
    ['string limit', [{ ...ok, limitUsd: '10' }], `${WHERE}[0].limitUsd must be a number of US dollars above 0 (got "10")`],
    ['infinite limit', [{ ...ok, limitUsd: Number.POSITIVE_INFINITY }], `${WHERE}[0].limitUsd must be a number of US dollars above 0 (got null)`],
    ['huge limit', [{ ...ok, limitUsd: 1e7 }], `${WHERE}[0].limitUsd must be at most ${MAX_LIMIT_USD} (got 10000000)`],
    ['bad zone', [{ ...ok, timezone: 'Mars/Olympus' }], `${WHERE}[0].timezone must be an IANA time zone (got "Mars/Olympus")`],
    ['offset zone', [{ ...ok, timezone: '+02:00' }], `${WHERE}[0].timezone must be an IANA time zone (got "+02:00")`],
    ['alertAt not array', [{ ...ok, alertAt: 0.5 }], `${WHERE}[0].alertAt must be an array of fractions of the limit`],
    ['alert above 1', [{ ...ok, alertAt: [0.5, 1.2] }], `${WHERE}[0].alertAt[1] must be a number above 0 and at most 1 (got 1.2)`],
    ['alert zero', [{ ...ok, alertAt: [0] }], `${WHERE}[0].alertAt[0] must be a number above 0 and at most 1 (got 0)`],
    ['webhook not http', [{ ...ok, webhook: 'ftp://x.example' }], `${WHERE}[0].webhook must be an http:// or https:// URL (got "ftp://x.example")`],
    ['webhook not url', [{ ...ok, webhook: 'hooks.example.com' }], `${WHERE}[0].webhook must be an http:// or https:// URL (got "hooks.example.com")`],
    ['empty name', [{ ...ok, name: ' ' }], `${WHERE}[0].name must be a non-empty string`],
    ['same name', [ok, { ...ok, limitUsd: 5 }], `${WHERE}[1] has the same name "global:month" as cost.budgets[0]`],
  ];
  it.each(cases)('refuses %s with a precise message', (_label, value, message) => {
    const error = errorOf(() => checkBudgets(value, WHERE));
    expect(error.message).toBe(message);
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.exitCode).toBe(2);
    expect(error.actions.length).toBe(1);
  });
});

const SCOPE: CostScope = { agent: 'bot', project: 'shop', user: 'u-9', session: null };
const budget = (b: Partial<BudgetConfig>): BudgetConfig => ({ scope: 'global', period: 'month', limitUsd: 1, ...b });

describe('windowsFor: which budgets apply', () => {
  const now = new Date('2026-03-15T12:00:00Z');

  it('applies global always, id budgets to their id only, and id-less budgets to each non-null value', () => {
    const budgets = [
      budget({ scope: 'global', period: 'total', limitUsd: 100 }),
      budget({ scope: 'agent', id: 'bot', limitUsd: 5 }),
      budget({ scope: 'agent', id: 'other', limitUsd: 5 }),
      budget({ scope: 'user', period: 'day', limitUsd: 0.1 }),
      budget({ scope: 'session', period: 'day', limitUsd: 0.01 }), // the call has no session: does not apply
      budget({ scope: 'project', name: 'Shop monthly', limitUsd: 12.345678901 }),
    ];
    expect(windowsFor(budgets, SCOPE, now)).toEqual([
      { key: 'global:total|', name: 'global:total', scope: 'global', value: null, periodStart: '1970-01-01T00:00:00.000Z', periodEnd: null, limitNano: 100_000_000_000 },
      { key: 'agent:bot:month|bot', name: 'agent:bot:month', scope: 'agent', value: 'bot', periodStart: '2026-03-01T00:00:00.000Z', periodEnd: '2026-04-01T00:00:00.000Z', limitNano: 5_000_000_000 },
      { key: 'user:day|u-9', name: 'user:day', scope: 'user', value: 'u-9', periodStart: '2026-03-15T00:00:00.000Z', periodEnd: '2026-03-16T00:00:00.000Z', limitNano: 100_000_000 },
      { key: 'Shop monthly|shop', name: 'Shop monthly', scope: 'project', value: 'shop', periodStart: '2026-03-01T00:00:00.000Z', periodEnd: '2026-04-01T00:00:00.000Z', limitNano: 12_345_678_901 },
    ]);
  });

  it('gives each value of an id-less budget its own key', () => {
    const b = [budget({ scope: 'agent', period: 'day' })];
    expect(windowsFor(b, { ...SCOPE, agent: 'a' }, now)[0].key).toBe('agent:day|a');
    expect(windowsFor(b, { ...SCOPE, agent: 'b' }, now)[0].key).toBe('agent:day|b');
    expect(windowsFor(b, { ...SCOPE, agent: null }, now)).toEqual([]);
  });

  it('rounds limits to the nearest nano-dollar', () => {
    expect(windowsFor([budget({ limitUsd: 0.1 })], SCOPE, now)[0].limitNano).toBe(100_000_000);
    expect(windowsFor([budget({ limitUsd: 0.0000000016 })], SCOPE, now)[0].limitNano).toBe(2);
  });
});

describe('budget periods', () => {
  const at = (iso: string) => new Date(iso);

  it('starts a month at local midnight on the 1st: 2026-03-31T23:30Z is April in Berlin', () => {
    expect(periodOf('month', 'Europe/Berlin', at('2026-03-31T23:30:00Z'))).toEqual({ start: '2026-03-31T22:00:00.000Z', end: '2026-04-30T22:00:00.000Z' });
    // Half an hour earlier it is still March there; March began in winter time (UTC+1).
    expect(periodOf('month', 'Europe/Berlin', at('2026-03-31T21:30:00Z'))).toEqual({ start: '2026-02-28T23:00:00.000Z', end: '2026-03-31T22:00:00.000Z' });
    // ... and in UTC it is March either way.
    expect(periodOf('month', 'UTC', at('2026-03-31T23:30:00Z'))).toEqual({ start: '2026-03-01T00:00:00.000Z', end: '2026-04-01T00:00:00.000Z' });
  });

  it('makes DST days 23 and 25 hours long in America/New_York', () => {
    const spring = periodOf('day', 'America/New_York', at('2026-03-08T12:00:00Z'));
    expect(spring).toEqual({ start: '2026-03-08T05:00:00.000Z', end: '2026-03-09T04:00:00.000Z' });
    expect(Date.parse(spring.end!) - Date.parse(spring.start)).toBe(23 * 3600_000);
    const autumn = periodOf('day', 'America/New_York', at('2026-11-01T12:00:00Z'));
    expect(autumn).toEqual({ start: '2026-11-01T04:00:00.000Z', end: '2026-11-02T05:00:00.000Z' });
    expect(Date.parse(autumn.end!) - Date.parse(autumn.start)).toBe(25 * 3600_000);
    // The day before the spring change ends where the short day begins.
    expect(periodOf('day', 'America/New_York', at('2026-03-08T04:59:59.999Z')).end).toBe(spring.start);
  });

  it('handles a clock change that skips local midnight (America/Santiago, 2026-09-06)', () => {
    const day = periodOf('day', 'America/Santiago', at('2026-09-06T12:00:00Z'));
    expect(day).toEqual({ start: '2026-09-06T04:00:00.000Z', end: '2026-09-07T03:00:00.000Z' });
    expect(periodOf('day', 'America/Santiago', at('2026-09-06T03:59:59Z')).end).toBe(day.start);
  });

  it('rolls months over at month ends, including February of a leap year', () => {
    expect(periodOf('month', 'UTC', at('2026-01-31T23:59:59.999Z'))).toEqual({ start: '2026-01-01T00:00:00.000Z', end: '2026-02-01T00:00:00.000Z' });
    expect(periodOf('month', 'UTC', at('2026-02-01T00:00:00.000Z'))).toEqual({ start: '2026-02-01T00:00:00.000Z', end: '2026-03-01T00:00:00.000Z' });
    expect(periodOf('month', 'UTC', at('2028-02-29T12:00:00Z'))).toEqual({ start: '2028-02-01T00:00:00.000Z', end: '2028-03-01T00:00:00.000Z' });
    expect(periodOf('day', 'UTC', at('2028-02-29T12:00:00Z'))).toEqual({ start: '2028-02-29T00:00:00.000Z', end: '2028-03-01T00:00:00.000Z' });
    // 2028-02-29T20:00Z is already March 1st in Kolkata (UTC+5:30).
    expect(periodOf('month', 'Asia/Kolkata', at('2028-02-29T20:00:00Z'))).toEqual({ start: '2028-02-29T18:30:00.000Z', end: '2028-03-31T18:30:00.000Z' });
    // Year end.
    expect(periodOf('month', 'America/New_York', at('2027-01-01T03:00:00Z'))).toEqual({ start: '2026-12-01T05:00:00.000Z', end: '2027-01-01T05:00:00.000Z' });
  });

  it('starts weeks on Monday 00:00 local time', () => {
    // 2026-03-08 is a Sunday: its week began on Monday 2026-03-02.
    expect(periodOf('week', 'UTC', at('2026-03-08T23:59:59Z'))).toEqual({ start: '2026-03-02T00:00:00.000Z', end: '2026-03-09T00:00:00.000Z' });
    expect(periodOf('week', 'UTC', at('2026-03-09T00:00:00Z')).start).toBe('2026-03-09T00:00:00.000Z');
    // Monday 00:30 in Tokyo is still Sunday in UTC.
    expect(periodOf('week', 'Asia/Tokyo', at('2026-03-08T15:30:00Z'))).toEqual({ start: '2026-03-08T15:00:00.000Z', end: '2026-03-15T15:00:00.000Z' });
    // A week across the New York spring change is 167 hours.
    const dst = periodOf('week', 'America/New_York', at('2026-03-10T12:00:00Z'));
    expect(dst).toEqual({ start: '2026-03-09T04:00:00.000Z', end: '2026-03-16T04:00:00.000Z' });
    const across = periodOf('week', 'America/New_York', at('2026-03-04T12:00:00Z'));
    expect(Date.parse(across.end!) - Date.parse(across.start)).toBe(167 * 3600_000);
  });

  it('uses the budget time zone in windowsFor', () => {
    const [w] = windowsFor([budget({ timezone: 'Europe/Berlin' })], SCOPE, at('2026-03-31T23:30:00Z'));
    expect([w.periodStart, w.periodEnd]).toEqual(['2026-03-31T22:00:00.000Z', '2026-04-30T22:00:00.000Z']);
  });

  it('refuses an invalid date or zone rather than guessing', () => {
    expect(errorOf(() => windowsFor([budget({})], SCOPE, new Date('nope'))).code).toBe('COST_INVALID_INPUT');
    expect(errorOf(() => windowsFor([budget({ timezone: 'Nowhere/Land' })], SCOPE, at('2026-03-01T00:00:00Z'))).message).toBe(
      'budget time zone "Nowhere/Land" is not an IANA time zone',
    );
  });
});
