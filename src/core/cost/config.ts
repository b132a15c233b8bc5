import { AgentGuardError } from '../errors.js';
import { checkBudgets } from './budgets.js';
import { parsePriceOverrides } from './overrides.js';
import type { PriceOverrides } from './prices.js';
import type { BudgetConfig, UnknownModelRule } from './types.js';
import { isPlainObject } from '../plain-object.js';

/** The `cost` section of agentguard.config.json, checked. */
export interface CostSettings {
  budgets: BudgetConfig[];
  /** Per-token USD prices that win over the catalog, by `<provider>/<model>` or bare model id. */
  prices: PriceOverrides;
  /** A model without a price while a budget applies: deny (default), price it as another model, or warn and count 0. */
  unknownModels: UnknownModelRule;
  /** How long a call's reservation holds when the call never reports back. */
  reservationTtlMs: number;
}

export const DEFAULT_RESERVATION_TTL_MS = 15 * 60_000;

function invalid(where: string, message: string, fix: string): AgentGuardError {
  return new AgentGuardError('CONFIG_INVALID', `${where} ${message}`, { actions: [fix] });
}


function checkUnknownModels(value: unknown, where: string): UnknownModelRule {
  if (value === undefined || value === 'deny') return { action: 'deny' };
  if (value === 'warn') return { action: 'warn' };
  if (isPlainObject(value) && typeof value.fallback === 'string' && value.fallback !== '' && Object.keys(value).length === 1) {
    return { action: 'fallback', model: value.fallback };
  }
  throw invalid(where, `is ${JSON.stringify(value)}`, 'Use "deny" (default), "warn" (allow, counted as $0, with a warning) or { "fallback": "<provider>/<model>" } (priced as that model).');
}

/** Checks the `cost` section; `where` names it in messages (e.g. `agentguard.config.json: cost`). */
export function checkCostConfig(value: unknown, where: string): CostSettings {
  if (value === undefined) return { budgets: [], prices: {}, unknownModels: { action: 'deny' }, reservationTtlMs: DEFAULT_RESERVATION_TTL_MS };
  if (!isPlainObject(value)) throw invalid(where, 'must be an object', 'Write "cost": { "budgets": [...], "prices": {...}, "unknownModels": "deny" }.');
  for (const key of Object.keys(value)) {
    if (!['budgets', 'prices', 'unknownModels', 'reservationTtlSeconds'].includes(key)) {
      throw invalid(where, `has an unknown field "${key}"`, 'Allowed: budgets, prices, unknownModels, reservationTtlSeconds.');
    }
  }
  const ttl = value.reservationTtlSeconds;
  if (ttl !== undefined && !(typeof ttl === 'number' && Number.isInteger(ttl) && ttl >= 10 && ttl <= 86_400)) {
    throw invalid(`${where}.reservationTtlSeconds`, `is ${JSON.stringify(ttl)}`, 'Give a whole number of seconds from 10 to 86400 (default 900).');
  }
  return {
    budgets: value.budgets === undefined ? [] : checkBudgets(value.budgets, `${where}.budgets`),
    prices: parsePriceOverrides(value.prices, `${where}.prices`),
    unknownModels: checkUnknownModels(value.unknownModels, `${where}.unknownModels`),
    reservationTtlMs: ttl === undefined ? DEFAULT_RESERVATION_TTL_MS : (ttl as number) * 1000,
  };
}
