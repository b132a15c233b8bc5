/**
 * Shared types of cost tracking and budgets. Money is held in integer nano-dollars (1e-9 USD) wherever it is summed or
 * compared, so spend and limits add up exactly; per-call costs are rounded up to the next nano-dollar.
 */

/** USD per token, as the price maps give them. */
export interface TokenPrices {
  input: number;
  output: number;
  /** Prompt tokens read from the provider's cache. */
  cacheRead?: number;
  /** Prompt tokens written to the cache with the default (5-minute) lifetime. */
  cacheWrite5m?: number;
  /** Prompt tokens written to the cache with a 1-hour lifetime. */
  cacheWrite1h?: number;
}

/** One model's prices and limits. */
export interface PriceEntry extends TokenPrices {
  /** Where the model is served: `openai`, `azure`, `anthropic`, `bedrock`, `vertex`. */
  provider: string;
  /** Batch API prices, when the provider has them. */
  batch?: Partial<Pick<TokenPrices, 'input' | 'output'>>;
  /** Prices that apply to the whole call once its prompt (input + cache read + cache write) is over 200k tokens. */
  above200k?: Partial<TokenPrices>;
  maxInputTokens?: number;
  maxOutputTokens?: number;
}

/** How a model's price was found. */
export type PriceSource = 'override' | 'exact' | 'base' | 'fallback';

export interface ResolvedPrice {
  /** The catalog key that priced it, e.g. `openai/gpt-4o`. */
  key: string;
  entry: PriceEntry;
  via: PriceSource;
}

/** What to do with a model the catalog does not know while a budget applies. */
export type UnknownModelRule = { action: 'deny' } | { action: 'warn' } | { action: 'fallback'; model: string };

/** A model's token usage, as the guarded clients report it (see TokenUsage in core/pipeline.ts). */
export interface UsageTokens {
  /** Prompt tokens not read from or written to a cache. */
  inputTokens: number;
  outputTokens: number;
  cacheReadInputTokens: number;
  /** Prompt tokens written to the cache (all lifetimes). */
  cacheCreationInputTokens: number;
  /** Of cacheCreationInputTokens, those written with a 1-hour lifetime. */
  cacheCreation1hInputTokens?: number;
  /** Output tokens spent on hidden reasoning (already inside outputTokens; never billed twice). */
  reasoningTokens?: number;
}

/** A call's cost, in nano-dollars, by kind of token. */
export interface CostBreakdown {
  totalNano: number;
  inputNano: number;
  outputNano: number;
  cacheReadNano: number;
  cacheWriteNano: number;
  /** `above_200k` when the long-context prices applied. */
  tier: 'standard' | 'above_200k';
  batch: boolean;
}

/** Who and what a call is attributed to, for budgets and reports. */
export interface CostScope {
  agent: string | null;
  project: string | null;
  user: string | null;
  session: string | null;
}

export const BUDGET_SCOPES = ['global', 'project', 'agent', 'user', 'session'] as const;
export type BudgetScope = (typeof BUDGET_SCOPES)[number];
export const BUDGET_PERIODS = ['day', 'week', 'month', 'total'] as const;
export type BudgetPeriod = (typeof BUDGET_PERIODS)[number];

/** A budget as written in the config (`cost.budgets` in agentguard.config.json). */
export interface BudgetConfig {
  /** A name for reports and alerts; defaults to `<scope>[:<id>]:<period>`. */
  name?: string;
  scope: BudgetScope;
  /** The project, agent, user or session it limits; absent: every one of them has its own limit. Not for global. */
  id?: string;
  period: BudgetPeriod;
  limitUsd: number;
  /** IANA time zone in which days, weeks (starting Monday) and months begin. Default UTC. */
  timezone?: string;
  /** Fractions of the limit at which an alert is sent once per period. Default [0.5, 0.8, 1]. */
  alertAt?: number[];
  /** URL the alerts are POSTed to. */
  webhook?: string;
}

/** One budget instance that applies to a call: a budget config narrowed to a scope value and a period. */
export interface BudgetWindow {
  /** Stable key of the limited thing, e.g. `agent:support-bot:month` or `global::total`. */
  key: string;
  name: string;
  scope: BudgetScope;
  /** The scope value the window limits (null for global). */
  value: string | null;
  /** ISO 8601 UTC start of the current period (inclusive); the epoch for `total`. */
  periodStart: string;
  /** ISO 8601 UTC end of the current period (exclusive); null for `total`. */
  periodEnd: string | null;
  limitNano: number;
}

/** A window's figures at the moment of a reservation or a report. */
export interface BudgetFigures {
  key: string;
  name: string;
  limitNano: number;
  /** Committed spend in the period (ledger). */
  spentNano: number;
  /** Live reservations in the period (calls in flight). */
  reservedNano: number;
  periodStart: string;
  periodEnd: string | null;
}

/** One priced call in the ledger. */
export interface LedgerEntry {
  time: string;
  decisionId: string;
  scope: CostScope;
  provider: string;
  model: string;
  tokens: UsageTokens;
  costNano: number;
  /** True when the usage was estimated (a stream cut before the provider reported usage). */
  estimated: boolean;
  /** How the model was priced; `unpriced` when it was allowed with a warning and counts as 0. */
  priced: PriceSource | 'unpriced';
}

export type ReserveResult =
  | { ok: true; reservationId: string; figures: BudgetFigures[] }
  | { ok: false; exceeded: BudgetFigures[]; figures: BudgetFigures[] };

/**
 * The cost part of the store. `reserve` is atomic across processes: it sums committed spend and live (unexpired,
 * unsettled) reservations of every window in its period, and inserts the reservation only when every window still
 * fits (`spent + reserved + amount <= limit`). `settle` replaces the call's reservation by its ledger row in one
 * transaction, so committed spend never exceeds what was reserved for it plus the actual cost recorded.
 */
export interface CostStore {
  reserve(request: { decisionId: string; scope: CostScope; windows: BudgetWindow[]; amountNano: number; now: string; expiresAt: string }): Promise<ReserveResult>;
  /** Writes the ledger row and removes the decision's reservation (if any) in one transaction. Idempotent per decisionId. */
  settle(entry: LedgerEntry): Promise<void>;
  /**
   * The same, synchronously, inside a transaction the caller holds on this store's database (see AuditStore.append's
   * `alongside`), so a call's outcome and its ledger row commit together. Stores that cannot do this leave it out.
   */
  settleInTransaction?(entry: LedgerEntry): void;
  /** Current figures of windows (for `cost budgets` and alerts). */
  figures(windows: BudgetWindow[], now: string): Promise<BudgetFigures[]>;
  /** Ledger rows in [since, until), oldest first. */
  ledger(filter: { since?: string; until?: string; limit?: number }): Promise<LedgerEntry[]>;
  /** Records that an alert threshold was crossed for a window's period; false when it was already recorded (send once). */
  markAlert(key: string, periodStart: string, threshold: number, time: string): Promise<boolean>;
}

/** Token counts of one LLM call, by kind, as the provider reported them. */
export interface TokenUsage {
  model?: string;
  /** Prompt tokens not read from a cache. */
  inputTokens?: number;
  outputTokens?: number;
  /** Prompt tokens read from the provider's prompt cache. */
  cacheReadInputTokens?: number;
  /** Prompt tokens written to the provider's prompt cache. */
  cacheCreationInputTokens?: number;
  /** Of cacheCreationInputTokens, those written with a 1-hour lifetime (billed higher). */
  cacheCreation1hInputTokens?: number;
  /** Output tokens spent on hidden reasoning (already included in outputTokens). */
  reasoningTokens?: number;
  /** True when counted by agentguard because the provider never reported usage (a stream cut short). */
  estimated?: boolean;
}
