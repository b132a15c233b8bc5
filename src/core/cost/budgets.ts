import { luxon } from '../lazy-luxon.js';
import { AgentGuardError } from '../errors.js';
import { BUDGET_PERIODS, BUDGET_SCOPES, type BudgetConfig, type BudgetPeriod, type BudgetScope, type BudgetWindow, type CostScope } from './types.js';
import { isPlainObject } from '../plain-object.js';

export const DEFAULT_ALERT_AT: readonly number[] = [0.5, 0.8, 1];
export const DEFAULT_TIMEZONE = 'UTC';

/** Budget sums are exact integers of nano-dollars below 2^53, so a limit may not exceed about $9 million. */
export const MAX_LIMIT_USD = Math.floor(Number.MAX_SAFE_INTEGER / 1e9);

/** Start of the `total` period: the epoch. */
const EPOCH = '1970-01-01T00:00:00.000Z';

const FIELDS = ['name', 'scope', 'id', 'period', 'limitUsd', 'timezone', 'alertAt', 'webhook'];


function invalid(at: string, message: string, fix: string): AgentGuardError {
  return new AgentGuardError('CONFIG_INVALID', `${at} ${message}`, { actions: [fix] });
}

/** The name a budget goes by when it has none: `<scope>[:<id>]:<period>`. */
export function budgetName(budget: Pick<BudgetConfig, 'name' | 'scope' | 'id' | 'period'>): string {
  return budget.name ?? `${budget.scope}${budget.id === undefined ? '' : `:${budget.id}`}:${budget.period}`;
}

/**
 * Checks `cost.budgets` from the config and returns it with defaults filled in (name, timezone, alertAt sorted).
 * `where` names the array in messages, e.g. `agentguard.config.json: cost.budgets`.
 */
export function checkBudgets(value: unknown, where: string): BudgetConfig[] {
  if (!Array.isArray(value)) {
    throw invalid(where, 'must be an array of budgets', 'Write e.g. "budgets": [{ "scope": "global", "period": "month", "limitUsd": 100 }].');
  }
  const seen = new Map<string, number>();
  return value.map((item: unknown, i) => {
    const budget = checkBudget(item, `${where}[${i}]`);
    const earlier = seen.get(budget.name!);
    if (earlier !== undefined) {
      const path = where.slice(where.lastIndexOf(': ') + 1).trim(); // without the file name in front
      throw invalid(`${where}[${i}]`, `has the same name "${budget.name}" as ${path}[${earlier}]`, 'Give one of them a different "name"; alerts and reports tell budgets apart by name.');
    }
    seen.set(budget.name!, i);
    return budget;
  });
}

function checkBudget(item: unknown, at: string): BudgetConfig {
  if (!isPlainObject(item)) throw invalid(at, 'must be an object', 'A budget is { "scope": ..., "period": ..., "limitUsd": ... }.');
  for (const key of Object.keys(item)) {
    if (!FIELDS.includes(key)) throw invalid(at, `has an unknown field "${key}"`, `Allowed: ${FIELDS.join(', ')}.`);
  }
  const { scope, id, period, limitUsd, name, timezone, alertAt, webhook } = item;
  if (!BUDGET_SCOPES.includes(scope as BudgetScope)) {
    throw invalid(`${at}.scope`, `must be one of ${BUDGET_SCOPES.join(', ')} (got ${JSON.stringify(scope)})`, 'Say what the budget limits: everything (global), or each project, agent, user or session.');
  }
  if (!BUDGET_PERIODS.includes(period as BudgetPeriod)) {
    throw invalid(`${at}.period`, `must be one of ${BUDGET_PERIODS.join(', ')} (got ${JSON.stringify(period)})`, 'Budgets restart every day, week (from Monday) or month, or never (total).');
  }
  if (id !== undefined) {
    if (scope === 'global') throw invalid(`${at}.id`, 'is not allowed when scope is global', 'Remove "id", or use scope project, agent, user or session to limit one of them.');
    if (typeof id !== 'string' || id === '') throw invalid(`${at}.id`, 'must be a non-empty string', `The ${String(scope)} this budget limits; leave it out to give every ${String(scope)} its own limit.`);
  }
  if (typeof limitUsd !== 'number' || !Number.isFinite(limitUsd) || limitUsd <= 0) {
    throw invalid(`${at}.limitUsd`, `must be a number of US dollars above 0 (got ${JSON.stringify(limitUsd)})`, 'For example "limitUsd": 25 for $25 per period.');
  }
  if (limitUsd > MAX_LIMIT_USD) {
    throw invalid(`${at}.limitUsd`, `must be at most ${MAX_LIMIT_USD} (got ${limitUsd})`, 'Budgets are counted exactly in nano-dollars, which caps a limit at about $9 million.');
  }
  if (name !== undefined && (typeof name !== 'string' || name.trim() === '')) {
    throw invalid(`${at}.name`, 'must be a non-empty string', 'Leave it out to use the default name <scope>[:<id>]:<period>.');
  }
  if (timezone !== undefined && (typeof timezone !== 'string' || !luxon().IANAZone.isValidZone(timezone))) {
    throw invalid(`${at}.timezone`, `must be an IANA time zone (got ${JSON.stringify(timezone)})`, 'For example "UTC", "Europe/Berlin" or "America/New_York".');
  }
  let alerts = [...DEFAULT_ALERT_AT];
  if (alertAt !== undefined) {
    if (!Array.isArray(alertAt)) throw invalid(`${at}.alertAt`, 'must be an array of fractions of the limit', 'For example [0.5, 0.8, 1] alerts at 50%, 80% and 100%.');
    alertAt.forEach((a: unknown, j) => {
      if (typeof a !== 'number' || !(a > 0 && a <= 1)) {
        throw invalid(`${at}.alertAt[${j}]`, `must be a number above 0 and at most 1 (got ${JSON.stringify(a)})`, 'Give fractions of the limit: 0.8 alerts at 80%.');
      }
    });
    alerts = [...new Set(alertAt as number[])].sort((a, b) => a - b);
  }
  if (webhook !== undefined && !isHttpUrl(webhook)) {
    throw invalid(`${at}.webhook`, `must be an http:// or https:// URL (got ${JSON.stringify(webhook)})`, 'Alerts are POSTed there as JSON, e.g. a Slack incoming-webhook URL.');
  }
  const budget: BudgetConfig = {
    scope: scope as BudgetScope,
    ...(id === undefined ? {} : { id: id as string }),
    period: period as BudgetPeriod,
    limitUsd,
    timezone: (timezone as string | undefined) ?? DEFAULT_TIMEZONE,
    alertAt: alerts,
    ...(webhook === undefined ? {} : { webhook: webhook as string }),
  };
  return { name: budgetName({ ...budget, name: name as string | undefined }), ...budget };
}

function isHttpUrl(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  try {
    const url = new URL(value);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
  } catch {
    return false;
  }
}

/**
 * The budget windows that apply to a call at `now`. A budget with `id` applies only when the call's value of its scope
 * is that id; without `id`, to whatever non-null value the call has (each value gets its own limit); global always.
 * Periods begin at local midnight, on Monday (week) or on the 1st (month) in the budget's time zone.
 */
export function windowsFor(budgets: readonly BudgetConfig[], scope: CostScope, now: Date): BudgetWindow[] {
  if (Number.isNaN(now.getTime())) throw new AgentGuardError('COST_INVALID_INPUT', 'windowsFor: now is not a valid date');
  const windows: BudgetWindow[] = [];
  for (const budget of budgets) {
    let value: string | null = null;
    if (budget.scope !== 'global') {
      value = scope[budget.scope];
      if (value === null || value === undefined) continue;
      if (budget.id !== undefined && value !== budget.id) continue;
    }
    const name = budgetName(budget);
    const { start, end } = periodOf(budget.period, budget.timezone ?? DEFAULT_TIMEZONE, now);
    windows.push({
      key: `${name}|${value ?? ''}`,
      name,
      scope: budget.scope,
      value,
      periodStart: start,
      periodEnd: end,
      limitNano: Math.round(budget.limitUsd * 1e9),
    });
  }
  return windows;
}

/** The period containing `now`, as ISO UTC times: [start, end), end null for `total`. */
export function periodOf(period: BudgetPeriod, timezone: string, now: Date): { start: string; end: string | null } {
  if (period === 'total') return { start: EPOCH, end: null };
  const local = luxon().DateTime.fromJSDate(now, { zone: timezone });
  if (!local.isValid) {
    throw new AgentGuardError('CONFIG_INVALID', `budget time zone ${JSON.stringify(timezone)} is not an IANA time zone`, {
      actions: ['Use a zone such as "UTC" or "Europe/Berlin" in cost.budgets[].timezone.'],
    });
  }
  // Luxon's weeks are ISO weeks (Monday first). `plus` keeps local wall time, so a DST day is 23 or 25 hours long; the
  // second startOf covers zones where a clock change skips local midnight itself.
  const start = local.startOf(period);
  const end = start.plus({ [`${period}s`]: 1 }).startOf(period);
  return { start: start.toUTC().toISO()!, end: end.toUTC().toISO()! };
}
