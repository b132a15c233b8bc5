import type { Action, Decision, Reason } from '../action.js';
import type { TokenUsage } from './types.js';
import { windowsFor } from './budgets.js';
import { callModel, requestedChoices, requestedOutputLimit } from './call-model.js';
import type { CostSettings } from './config.js';
import type { PriceCatalog } from './prices.js';
import { promptTokenBound } from './tokens.js';
import type { BudgetFigures, BudgetWindow, CostScope, CostStore, LedgerEntry, PriceEntry, ResolvedPrice } from './types.js';
import { costOf, nanoCost, usdFromNano } from './usage-cost.js';
import { formatUsd } from './format-usd.js';

/** A threshold of a budget crossed by committed spend, reported once per period. */
export interface BudgetAlert {
  budget: string;
  key: string;
  threshold: number;
  spentUsd: number;
  limitUsd: number;
  periodStart: string;
  periodEnd: string | null;
  webhook?: string;
}

/** What the pipeline needs to price calls and hold budgets. */
export interface CostContext {
  store: CostStore;
  settings: CostSettings;
  catalog: PriceCatalog;
  now?: () => Date;
  /** Called for each alert after it was recorded (e.g. to POST it to the budget's webhook). */
  onAlert?: (alert: BudgetAlert) => void;
  /** Records an alert in the audit trail. */
  recordAlert?: (alert: BudgetAlert) => Promise<void>;
}

const money = (nano: number) => formatUsd(usdFromNano(nano));

function scopeOf(action: Action): CostScope {
  const context = (action.context ?? {}) as Record<string, unknown>;
  const text = (v: unknown) => (typeof v === 'string' && v !== '' ? v : null);
  return { agent: text(action.agent?.id), project: text(context.project), user: text(context.user), session: text(context.session) };
}

function priceFor(cost: CostContext, provider: string, model: string): ResolvedPrice | undefined {
  const found = cost.catalog.resolve(provider, model, cost.settings.prices);
  if (found || cost.settings.unknownModels.action !== 'fallback') return found;
  const fallback = callModel(cost.settings.unknownModels.model.replace('/', '.'));
  const priced = fallback && cost.catalog.resolve(fallback.provider, fallback.model, cost.settings.prices);
  return priced && { ...priced, via: 'fallback' };
}

/** The most a call can cost: every prompt token at the dearest input-side price, every possible output token. */
function maxCostNano(price: PriceEntry, promptTokens: number, outputTokens: number): number {
  const tiers = [price, ...(promptTokens > 200_000 && price.above200k ? [price.above200k] : [])];
  const perInput = Math.max(...tiers.flatMap((t) => [t.input, t.cacheWrite5m, t.cacheWrite1h, t.cacheRead].filter((p): p is number => typeof p === 'number')));
  const perOutput = Math.max(...tiers.map((t) => t.output ?? 0));
  return nanoCost(promptTokens, perInput) + nanoCost(outputTokens, perOutput);
}

function denied(decision: Decision, code: string, message: string): Decision {
  const reason: Reason = { effect: 'deny', code, message };
  return { ...decision, effect: 'deny', action: decision.action, reasons: [...decision.reasons, reason] };
}

function describeExceeded(figures: BudgetFigures[], amountNano: number): string {
  return figures
    .map((f) => `budget "${f.name}" has ${money(f.spentNano)} spent and ${money(f.reservedNano)} in flight of ${money(f.limitNano)}${f.periodEnd ? ` until ${f.periodEnd}` : ''}; this call may cost up to ${money(amountNano)}`)
    .join('; ');
}

/**
 * Holds the budgets for an allowed LLM call: reserves the most it can cost in every budget that applies, atomically,
 * or turns the decision into a deny (`budget_exceeded`, with the figures). A model without a price is denied
 * (`unknown_model_price`) unless the config says otherwise, and so is a call with no output limit to price.
 */
export async function reserveForDecision(cost: CostContext, decision: Decision): Promise<Decision> {
  const action = decision.action;
  if ((decision.effect !== 'allow' && decision.effect !== 'transform') || action?.kind !== 'llm') return decision;
  const now = cost.now?.() ?? new Date();
  const scope = scopeOf(action);
  const windows: BudgetWindow[] = windowsFor(cost.settings.budgets, scope, now);
  if (windows.length === 0) return decision;
  const names = windows.map((w) => `"${w.name}"`).join(', ');
  const target = callModel(action.name);
  const price = target && priceFor(cost, target.provider, target.model);
  if (!target || !price) {
    if (cost.settings.unknownModels.action === 'warn') {
      process.emitWarning(`agentguard: no price for ${action.name}; budget ${names} counts it as $0 (cost.unknownModels is "warn")`, { code: 'AGENTGUARD_UNKNOWN_MODEL' });
      return decision;
    }
    return denied(decision, 'unknown_model_price', `No price is known for ${action.name} while budget ${names} applies, so the call is denied. Add it to cost.prices in agentguard.config.json, import a newer price map (agentguard cost prices import), or set cost.unknownModels.`);
  }
  const input = action.input as Record<string, unknown> | undefined;
  const outputLimit = requestedOutputLimit(input) ?? price.entry.maxOutputTokens;
  if (outputLimit === undefined) {
    return denied(decision, 'no_output_limit', `Budget ${names} applies, but neither the request (max_tokens) nor the price of ${price.key} limits the output, so the call's cost has no bound and it is denied. Set max_tokens on the request.`);
  }
  const promptTokens = await promptTokenBound(target.provider, target.model, input);
  const amountNano = maxCostNano(price.entry, promptTokens, outputLimit * requestedChoices(input));
  const expiresAt = new Date(now.getTime() + cost.settings.reservationTtlMs).toISOString();
  const result = await cost.store.reserve({ decisionId: decision.id, scope, windows, amountNano, now: now.toISOString(), expiresAt });
  if (result.ok) return decision;
  return denied(decision, 'budget_exceeded', `Over budget: ${describeExceeded(result.exceeded, amountNano)}.`);
}

/** The ledger row of a finished LLM call (cost 0 when it reported no usage, e.g. a provider error). */
export function ledgerEntry(cost: CostContext, decision: Decision, usage: TokenUsage | undefined, time: Date): LedgerEntry | undefined {
  const action = decision.action;
  const target = callModel(action.name);
  if (!target) return undefined;
  const model = usage?.model ?? target.model;
  const tokens = {
    inputTokens: usage?.inputTokens ?? 0,
    outputTokens: usage?.outputTokens ?? 0,
    cacheReadInputTokens: usage?.cacheReadInputTokens ?? 0,
    cacheCreationInputTokens: usage?.cacheCreationInputTokens ?? 0,
    ...(usage?.cacheCreation1hInputTokens ? { cacheCreation1hInputTokens: usage.cacheCreation1hInputTokens } : {}),
    ...(usage?.reasoningTokens ? { reasoningTokens: usage.reasoningTokens } : {}),
  };
  const price = priceFor(cost, target.provider, model) ?? (model === target.model ? undefined : priceFor(cost, target.provider, target.model));
  if (!price && (tokens.inputTokens + tokens.outputTokens + tokens.cacheReadInputTokens + tokens.cacheCreationInputTokens) > 0) {
    process.emitWarning(`agentguard: no price for ${target.provider}/${model}; the call is recorded at $0 and marked unpriced`, { code: 'AGENTGUARD_UNKNOWN_MODEL' });
  }
  return {
    time: time.toISOString(),
    decisionId: decision.id,
    scope: scopeOf(action),
    provider: target.provider,
    model,
    tokens,
    costNano: price ? costOf(tokens, price.entry).totalNano : 0,
    estimated: usage?.estimated === true,
    priced: price ? price.via : 'unpriced',
  };
}

/** Replaces the call's reservation by its actual cost in the ledger, then sends the alerts it crossed. */
export async function settleCall(cost: CostContext, decision: Decision, usage: TokenUsage | undefined): Promise<void> {
  if (decision.action?.kind !== 'llm' || (decision.effect !== 'allow' && decision.effect !== 'transform')) return;
  const now = cost.now?.() ?? new Date();
  const entry = ledgerEntry(cost, decision, usage, now);
  if (!entry) return;
  await cost.store.settle(entry);
  await alertCrossings(cost, entry.scope, now);
}

/** Records and sends the alerts that committed spend in `scope` crossed (once per threshold and period). */
export async function alertCrossings(cost: CostContext, scope: CostScope, now: Date): Promise<void> {
  const applying = cost.settings.budgets.flatMap((budget) => windowsFor([budget], scope, now).map((window) => ({ budget, window })));
  if (applying.length === 0) return;
  const figures = await cost.store.figures(applying.map((a) => a.window), now.toISOString());
  for (const [i, { budget, window }] of applying.entries()) {
    const f = figures[i]!;
    for (const threshold of budget.alertAt ?? [0.5, 0.8, 1]) {
      if (f.spentNano < threshold * f.limitNano) continue;
      if (!(await cost.store.markAlert(window.key, window.periodStart, threshold, now.toISOString()))) continue;
      const alert: BudgetAlert = {
        budget: window.name,
        key: window.key,
        threshold,
        spentUsd: usdFromNano(f.spentNano),
        limitUsd: usdFromNano(f.limitNano),
        periodStart: window.periodStart,
        periodEnd: window.periodEnd,
        ...(budget.webhook ? { webhook: budget.webhook } : {}),
      };
      await cost.recordAlert?.(alert);
      cost.onAlert?.(alert);
    }
  }
}
