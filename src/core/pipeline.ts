import { checkAction, type Action, type Decision } from './action.js';
import { maskSecrets } from './audit/mask.js';
import type { AuditEntry } from './audit/types.js';
import type { AuditSink } from './audit/sink.js';
import type { Policy } from './policy/policy.js';
import { candidateRules, holdBackFor } from './policy/compile.js';
import type { EvalContext } from './policy/eval-context.js';
import { evaluatePolicy, newEvalContext } from './policy/evaluate.js';
import { auditViewOf } from './policy/audit-view.js';
import { rateRulesOf } from './policy/rate.js';
import { guardrailTexts } from './policy/texts.js';
import type { RedactionVault } from './guardrails/redact/index.js';
import { builtinSpecOf, type BuiltinSpec } from './guardrails/builtin-spec.js';
import type { GuardrailPool } from './guardrails/workers/pool.js';
import type { CostContext } from './cost/enforce.js';
import type { TokenUsage } from './cost/types.js';
import type { ApprovalRecord, ApprovalSpec } from './approvals/types.js';
import { approvalSpecFor } from './approvals/spec.js';
import { withAgentId } from './engine/agent-id.js';
import type { RateLimitStore } from './rate/types.js';
import { traceClock, type DecisionTrace } from './telemetry/decision-trace.js';
import { sessionIdOf } from './sessions/taint.js';

// Kept here too, so code that imported them from the pipeline still compiles.
export type { AuditSink } from './audit/sink.js';
export type { TokenUsage } from './cost/types.js';

export interface PipelineContext {
  policy: Policy;
  /** Omit to decide without recording (e.g. `policy simulate` without --record). */
  audit?: AuditSink;
  /** Agent id put on actions that name none. */
  agentId?: string;
  /** Key of `hash` and `encrypt` redaction, or a function that loads it on first use (see loadOrCreateRedactionKey). */
  redactionKey?: Uint8Array | (() => Uint8Array);
  /** Prices calls and holds budgets: allowed LLM calls reserve their most possible cost, outcomes settle it. */
  cost?: CostContext;
  /** Creates the approval a require_approval decision waits for (see core/approvals/service.ts). */
  approvals?: { request(decision: Decision, spec: ApprovalSpec): Promise<ApprovalRecord> };
  /** How much guardrail work a decision may take, and worker threads for large texts (the sidecar's); see GuardrailRuntime. */
  guardrails?: GuardrailRuntime;
  /**
   * Sees each evaluated decision before it is recorded and may replace it (the engine's session taint: an output that
   * taints its session, and a taint that cannot be stored, which denies). Not called by preview().
   */
  observe?: (action: Action, decision: Decision) => Promise<Decision>;
  /**
   * Counts allowed decisions against the rate limits of the rules they matched (see core/rate). Without it (nothing
   * is recorded) rate limits are not counted, as budgets are not held.
   */
  rateLimits?: RateLimitStore;
  /** The decision's time (the clock when absent): what `time` conditions and rate limits read. */
  now?: () => Date;
  /** Collects the timings of this decision's stages for a tracer (see core/telemetry); nothing is timed without it. */
  trace?: DecisionTrace;
}

/** Where and for how long a decision's guardrails run. */
export interface GuardrailRuntime {
  /** Milliseconds of guardrail work per decision (default DEFAULT_GUARDRAIL_BUDGET_MS); past it: deny `guardrail_timeout`. */
  budgetMs?: number;
  /**
   * Worker threads for decisions with more new guardrail text than `pool.inlineMaxChars`: the built-in guardrails run
   * there on every text the candidate rules read, so the calling thread's event loop stays free. Without a pool they
   * run on the calling thread when a rule asks.
   */
  pool?: GuardrailPool;
}

/** What happened when an allowed action ran. */
export interface Outcome {
  status: 'ok' | 'error';
  durationMs?: number;
  /** An error message; masked before it is recorded. */
  error?: string;
  /** Tokens an LLM call used, so it can be priced. */
  usage?: TokenUsage;
}

/** Vaults of decisions that used `vault` redaction, beside the decision so they are never serialised. */
const vaults = new WeakMap<Decision, RedactionVault>();

function ruleIds(decision: Decision): string[] {
  const ids: string[] = [];
  for (const reason of decision.reasons) if (reason.rule) ids.push(reason.rule);
  return ids;
}

/**
 * The one decision pipeline: guardrails (run once per text, asynchronous ones first) → policy → audit. Budgets and
 * approvals join here in later stages. The decision is returned only after its record is durable; if it cannot be
 * recorded, the answer is deny.
 */
export async function decide(ctx: PipelineContext, action: Action): Promise<Decision> {
  const decision = await evaluateAction(ctx, action);
  if (!ctx.audit) return decision;
  const audit = ctx.audit;
  try {
    const entries = [decisionEntry(decision, ctx.now?.() ?? new Date())];
    await (ctx.trace ? ctx.trace.time('audit', () => audit.append(entries)) : audit.append(entries));
  } catch (error) {
    // Denied after all: the slots its rate limits gave it go back.
    if (ctx.rateLimits && (decision.effect === 'allow' || decision.effect === 'transform')) await ctx.rateLimits.release(decision.id).catch(() => undefined);
    return {
      ...decision,
      effect: 'deny',
      action: withAgentId(action, ctx.agentId),
      reasons: [
        ...decision.reasons,
        { effect: 'deny', code: unavailableCode(error, 'audit_unavailable'), message: `The decision could not be recorded (${(error as Error).message}), so the action is denied` },
      ],
    };
  }
  return decision;
}

/**
 * Everything decide() does but the record. Whoever calls this must store `decisionEntry(decision)` before anything
 * acts on the decision (see recordAnswer), and must not act on it if that fails.
 */
export async function evaluateAction(ctx: PipelineContext, action: Action): Promise<Decision> {
  const subject = withAgentId(action, ctx.agentId);
  const compiled = ctx.policy.compiled;
  const now = ctx.now?.();
  const trace = ctx.trace;
  const budgetMs = ctx.guardrails?.budgetMs;
  const evalCtx = newEvalContext(compiled, ctx.redactionKey ? { key: ctx.redactionKey } : {}, trace ? { budgetMs, onRun: trace.guardrailRun } : { budgetMs }, now);
  if (evalCtx) {
    const started = trace ? traceClock() : 0;
    // Recorded as a stage only when guardrails ran ahead of the policy (asynchronous ones, or in worker threads).
    if (await prepareDetections(ctx.policy, subject, evalCtx, ctx.guardrails?.pool, trace)) trace?.stage('guardrails', started);
  }
  const started = trace ? traceClock() : 0;
  let decision = evaluatePolicy(compiled, subject, evalCtx);
  trace?.stage('policy', started, { effect: decision.effect });
  let ratesTaken = false;
  if (ctx.rateLimits && rateRulesOf(decision).length > 0) {
    const rates = ctx.rateLimits;
    const take = () => takeRates(rates, decision, now ?? new Date(), subject);
    ({ decision, took: ratesTaken } = await (trace ? trace.time('rate_limit', take, (r) => ({ effect: r.decision.effect })) : take()));
  }
  if (ctx.cost && isAllowedLlmCall(decision)) {
    const cost = ctx.cost;
    const hold = (held: Decision) => holdBudgets(cost, held);
    decision = await (trace ? trace.time('budget.reserve', () => hold(decision), (d) => ({ effect: d.effect })) : hold(decision));
  }
  if (decision.effect === 'require_approval' && ctx.approvals && ctx.audit) {
    const pending = decision;
    decision = await (trace ? trace.time('approval', () => requestApproval(ctx, pending)) : requestApproval(ctx, pending));
  }
  if (ctx.observe) {
    const observe = ctx.observe;
    const seen = decision;
    // Timed for actions in a session: for others there is nothing to observe.
    const timed = trace !== undefined && sessionIdOf(subject) !== undefined;
    decision = await (timed ? trace.time('session', () => observe(subject, seen), (d) => ({ effect: d.effect })) : observe(subject, seen));
  }
  // Only actions that end up allowed count: a later stage that denied gives the slots back.
  if (ratesTaken && decision.effect !== 'allow' && decision.effect !== 'transform') await ctx.rateLimits!.release(decision.id).catch(() => undefined);
  if (evalCtx?.redaction.vault) vaults.set(decision, evalCtx.redaction.vault);
  return decision;
}

/** A decision that was not recorded, and how much text a stream of such actions must hold back. */
export interface Preview {
  decision: Decision;
  /** The longest span the policy's guardrails can find in such an action, in characters (see holdBackFor). */
  holdBack: number;
}

/**
 * The same pipeline without the audit record: what the policy says about an action that is not about to run as
 * such, e.g. a window of a model's streamed answer. The answer as a whole is decided (and recorded) with decide().
 */
export async function preview(ctx: PipelineContext, action: Action): Promise<Preview> {
  const decision = await decide({ ...ctx, audit: undefined, cost: undefined, observe: undefined, rateLimits: undefined }, action);
  const valid = checkAction(action).length === 0;
  return { decision, holdBack: valid ? holdBackFor(ctx.policy.compiled, action.kind, action.name) : 0 };
}

/**
 * Asks for the approval a require_approval decision needs, bound to its exact action. If it cannot be created, the
 * decision stays require_approval without one, which nothing can approve: the action never runs.
 */
async function requestApproval(ctx: PipelineContext, decision: Decision): Promise<Decision> {
  try {
    const record = await ctx.approvals!.request(decision, approvalSpecFor(ctx.policy.compiled, decision));
    return { ...decision, approval: { id: record.id, status: record.status, expiresAt: record.expiresAt } };
  } catch (error) {
    const message = `The approval could not be requested (${(error as Error).message}), so the action cannot run`;
    return { ...decision, reasons: [...decision.reasons, { effect: 'require_approval', code: 'approval_unavailable', message }] };
  }
}

// The rate-limit module, loaded once on first use, by decisions that matched a rule with a rate.
let rateModule: Promise<typeof import('./rate/enforce.js')> | undefined;

async function takeRates(store: RateLimitStore, decision: Decision, at: Date, subject: Action): Promise<{ decision: Decision; took: boolean }> {
  const { takeRateSlots } = await (rateModule ??= import('./rate/enforce.js'));
  return takeRateSlots(store, decision, at, subject);
}

/** Only allowed LLM calls are priced and held against budgets; other decisions never load the cost module. */
function isAllowedLlmCall(decision: Decision): boolean {
  return decision.action?.kind === 'llm' && (decision.effect === 'allow' || decision.effect === 'transform');
}

// The cost module, loaded once on first use (an import() per call costs more than the rest of a small decision).
let enforceModule: Promise<typeof import('./cost/enforce.js')> | undefined;
const loadEnforce = () => (enforceModule ??= import('./cost/enforce.js'));

/** Budgets (loaded only when configured): an error while holding them denies, it never lets the call through. */
async function holdBudgets(cost: CostContext, decision: Decision): Promise<Decision> {
  try {
    const { reserveForDecision } = await loadEnforce();
    return await reserveForDecision(cost, decision);
  } catch (error) {
    const message = `The budgets could not be checked (${(error as Error).message}), so the action is denied`;
    return { ...decision, effect: 'deny', reasons: [...decision.reasons, { effect: 'deny', code: unavailableCode(error, 'budget_unavailable'), message }] };
  }
}

/** `store_unavailable` when a shared store (PostgreSQL) cannot be reached, else the stage's own code. */
function unavailableCode(error: unknown, otherwise: string): string {
  return (error as { code?: unknown })?.code === 'STORE_UNAVAILABLE' ? 'store_unavailable' : otherwise;
}

/**
 * Runs, ahead of the synchronous evaluation, the guardrail work that must not happen inside it: asynchronous
 * guardrails (those that call a service), and, when the decision brings more text than the pool runs inline, the
 * built-in guardrails in a worker thread. Both run on every text the candidate rules would read; the evaluation then
 * finds their results. Failures are kept and fail the rule that asks closed.
 */
async function prepareDetections(policy: Policy, action: Action, ctx: EvalContext, pool: GuardrailPool | undefined, trace?: DecisionTrace): Promise<boolean> {
  if (checkAction(action).length > 0) return false;
  const pending: Promise<void>[] = [];
  const offload: Array<{ name: string; text: string; spec: BuiltinSpec }> = [];
  const queued = new Map<string, Set<string>>();
  let chars = 0;
  try {
    for (const rule of candidateRules(policy.compiled, action.kind, action.name)) {
      for (const { name, guardrail, paths, appliesTo } of rule.detections) {
        if (appliesTo !== undefined && !appliesTo(action.kind)) continue;
        const spec = pool !== undefined && !guardrail.async ? builtinSpecOf(guardrail) : undefined;
        if (!guardrail.async && spec === undefined) continue;
        let texts = queued.get(name);
        if (!texts) queued.set(name, (texts = new Set()));
        for (const segments of paths) {
          for (const { text } of guardrailTexts(guardrail, action, segments)) {
            if (texts.has(text)) continue;
            texts.add(text);
            if (guardrail.async) pending.push(ctx.detections.prepare(name, text));
            else {
              offload.push({ name, text, spec: spec! });
              chars += text.length;
            }
          }
        }
      }
    }
  } catch {
    // An action too deep to read: the rules that needed these results hit the same error and count as errors.
  }
  const offloaded = pool !== undefined && chars > pool.inlineMaxChars;
  if (offloaded) {
    const started = trace ? traceClock() : 0;
    const outcome = await pool.run(offload.map(({ text, spec }) => ({ guardrail: spec, text })), ctx.detections.remainingMs);
    trace?.workersRun(started, traceClock(), { texts: offload.length, chars, spent_ms: Math.round(outcome.spentMs * 1000) / 1000 });
    ctx.detections.spend(outcome.spentMs);
    offload.forEach(({ name, text }, i) => ctx.detections.adopt(name, text, outcome.results[i]));
  }
  if (pending.length > 0) await Promise.all(pending);
  return offloaded || pending.length > 0;
}

/**
 * The vault of a decision whose `vault` redaction replaced values with placeholders; its `restore(text)` puts the
 * originals back (e.g. into the model's answer). Kept beside the decision, never in it, so it is never serialised.
 */
export function redactionVaultOf(decision: Decision): RedactionVault | undefined {
  return vaults.get(decision);
}

/** The audit entry for a decision: the whole decision, with secrets masked. */
export function decisionEntry(decision: Decision, time: Date): AuditEntry {
  const agent = decision.action && typeof decision.action === 'object' ? decision.action.agent?.id : undefined;
  return {
    type: 'decision',
    time: time.toISOString(),
    agentId: typeof agent === 'string' ? agent : null,
    decisionId: decision.id,
    effect: decision.effect,
    rules: ruleIds(decision),
    data: maskedDecision(auditViewOf(decision)),
  };
}

/**
 * The decision with secrets masked, all but its id: the engine makes ids (newDecisionId: `dec_` and 32 hex digits),
 * so there is nothing to find there, and as the one string of a decision never seen before it was the one the masker
 * scanned in full every time.
 */
function maskedDecision(view: Decision): Record<string, unknown> {
  const { id, ...rest } = view;
  return { id, ...(maskSecrets(rest) as Record<string, unknown>) };
}

/** The audit entry for what happened when the action of `decision` ran. */
export function outcomeEntry(decision: Decision, outcome: Outcome, time: Date): AuditEntry {
  const agent = decision.action?.agent?.id;
  return {
    type: 'outcome',
    time: time.toISOString(),
    agentId: typeof agent === 'string' ? agent : null,
    decisionId: decision.id,
    effect: null,
    rules: [],
    data: maskSecrets({ name: decision.action?.name, ...outcome }) as Record<string, unknown>,
  };
}

/** Records what happened when the action of `decision` ran, with its ledger row when it is an LLM call. */
export async function recordOutcome(ctx: PipelineContext, decision: Decision, outcome: Outcome): Promise<void> {
  if (!ctx.audit) return;
  const time = ctx.now?.() ?? new Date();
  await recordWithLedger(ctx, [outcomeEntry(decision, outcome, time)], decision, outcome, time);
}

/**
 * Records the decisions about a model's answer (made with evaluateAction: its text, its tool calls) and the outcome
 * of the call in one transaction, so a guarded call commits once after the answer instead of once per record.
 * Rejects when they cannot be stored: the answer must then be withheld.
 */
export async function recordAnswer(ctx: PipelineContext, answerDecisions: readonly Decision[], call: Decision, outcome: Outcome): Promise<void> {
  if (!ctx.audit) return;
  const time = ctx.now?.() ?? new Date();
  await recordWithLedger(ctx, [...answerDecisions.map((d) => decisionEntry(d, time)), outcomeEntry(call, outcome, time)], call, outcome, time);
}

/**
 * Appends entries that end with a call's outcome, and settles the call's cost: in the same transaction when the sink
 * keeps the ledger of the pipeline's cost store, else right after. Once the entries are stored, a ledger row or an
 * alert that fails is reported as a warning; it does not fail the records.
 */
async function recordWithLedger(ctx: PipelineContext, entries: AuditEntry[], call: Decision, outcome: Outcome, time: Date): Promise<void> {
  const audit = ctx.audit!;
  const cost = ctx.cost && isAllowedLlmCall(call) ? ctx.cost : undefined;
  const warn = (error: Error) => process.emitWarning(`agentguard: could not record the cost of ${call.id}: ${error.message}`, { code: 'AGENTGUARD_AUDIT' });
  const trace = ctx.trace;
  if (cost === undefined || audit.ledgerStore !== cost.store) {
    await (trace ? trace.time('audit', () => audit.append(entries)) : audit.append(entries));
    const settle = () => settleOutcome(ctx, call, outcome);
    await (trace && cost ? trace.time('budget.settle', settle) : settle()).catch(warn);
    return;
  }
  const { ledgerEntry, alertCrossings } = await loadEnforce();
  const ledger = ledgerEntry(cost, call, outcome.usage, time);
  const append = () => audit.append(entries, ledger ? { ledger } : {});
  // The ledger row that settles the call is written in the audit's transaction: one stage does both.
  await (trace ? trace.time('audit', append, () => ({ 'budget.settle': ledger !== undefined })) : append());
  if (ledger) await alertCrossings(cost, ledger.scope, time).catch(warn);
}

/** Replaces an LLM call's reservation with its actual cost in the ledger (nothing for other actions or without cost). */
async function settleOutcome(ctx: PipelineContext, decision: Decision, outcome: Outcome): Promise<void> {
  if (ctx.cost && isAllowedLlmCall(decision)) {
    const { settleCall } = await loadEnforce();
    await settleCall(ctx.cost, decision, outcome.usage);
  }
}
