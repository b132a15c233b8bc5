/**
 * User price overrides: `cost.prices` in agentguard.config.json, keyed `<provider>/<model>` or bare `<model>`, in USD
 * per token (the same unit as the catalog). They win over the catalog and over imported maps.
 */
import { costSectionName, loadProjectConfig } from '../config/project-config.js';
import { AgentGuardError } from '../errors.js';
import type { PriceOverrides } from './prices.js';
import { setOwnKey } from '../own-key.js';
import { isPlainObject } from '../plain-object.js';

const PRICE_KEYS = ['input', 'output', 'cacheRead', 'cacheWrite5m', 'cacheWrite1h'] as const;
const LIMIT_KEYS = ['maxInputTokens', 'maxOutputTokens'] as const;
const PER_TOKEN_HINT = 'Prices are USD per token: $2.50 per million tokens is 0.0000025.';


function invalid(where: string, message: string, fix: string): AgentGuardError {
  return new AgentGuardError('CONFIG_INVALID', `${where}: ${message}`, { actions: [fix] });
}

/** Checks a `cost.prices` value; `where` names it in messages (e.g. `agentguard.config.json: cost.prices`). */
export function parsePriceOverrides(value: unknown, where: string): PriceOverrides {
  if (value === undefined) return {};
  if (!isPlainObject(value)) throw invalid(where, 'must be an object of model → prices', 'Write e.g. "prices": { "openai/my-model": { "input": 0.000002, "output": 0.000008 } }.');
  const out: PriceOverrides = {};
  for (const [model, entry] of Object.entries(value)) {
    const at = `${where}.${model}`;
    if (model.trim() === '') throw invalid(where, 'has an empty model name', 'Key prices by "<provider>/<model>" or a bare model id.');
    if (!isPlainObject(entry)) throw invalid(at, 'must be an object', 'Give { "input": <USD per token>, "output": <USD per token> }.');
    for (const key of Object.keys(entry)) {
      if (!(PRICE_KEYS as readonly string[]).includes(key) && !(LIMIT_KEYS as readonly string[]).includes(key)) {
        throw invalid(at, `unknown field "${key}"`, `Allowed: ${PRICE_KEYS.join(', ')} (USD per token) and ${LIMIT_KEYS.join(', ')}.`);
      }
    }
    for (const key of PRICE_KEYS) {
      const price = entry[key];
      const required = key === 'input' || key === 'output';
      if (price === undefined && !required) continue;
      if (typeof price !== 'number' || !Number.isFinite(price) || price < 0) {
        throw invalid(`${at}.${key}`, price === undefined ? 'is missing' : `must be a number, 0 or more (got ${JSON.stringify(price)})`, PER_TOKEN_HINT);
      }
    }
    for (const key of LIMIT_KEYS) {
      const limit = entry[key];
      if (limit !== undefined && !(typeof limit === 'number' && Number.isInteger(limit) && limit > 0)) {
        throw invalid(`${at}.${key}`, `must be a whole number above 0 (got ${JSON.stringify(limit)})`, 'A token limit of the model, e.g. 16384.');
      }
    }
    setOwnKey(out, model, entry);
  }
  return out;
}

/** The project's price overrides; `{}` when agentguard.config.json has no `cost.prices`. */
export async function loadPriceOverrides(cwd?: string): Promise<PriceOverrides> {
  const loaded = await loadProjectConfig(cwd);
  const cost = (loaded.config as unknown as Record<string, unknown>).cost;
  if (cost === undefined) return {};
  const where = costSectionName(loaded.file);
  if (!isPlainObject(cost)) throw invalid(where, 'must be an object', 'Write "cost": { "prices": { … } }.');
  return parsePriceOverrides(cost.prices, `${where}.prices`);
}
