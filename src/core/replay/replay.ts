import { performance } from 'node:perf_hooks';
import type { Action, Decision, Effect, Reason } from '../action.js';
import { readOnlyRedactionKey } from '../guardrails/redaction-key.js';
import { evaluateAction, type PipelineContext } from '../pipeline.js';
import { evaluatePolicy, newEvalContext } from '../policy/evaluate.js';
import { readsClock } from '../policy/time-window.js';
import type { Policy } from '../policy/policy.js';
import { applyTake, rateWindowsOf } from '../rate/enforce.js';
import { MemoryRateLimitStore } from '../rate/memory-store.js';
import { maskedPaths, mayHoldMask } from './masked.js';
import type { RecordedRow } from './records.js';
import { possibleEffects } from './uncertain.js';

/**
 * Reasons a recorded decision was made by a stage outside the policy (budgets, the audit record, an approval that
 * could not be created, session taint storage, the guardrail time budget, an internal failure): the candidate policy
 * cannot say what those stages would do, so such records are counted but not compared.
 */
export const OUTSIDE_POLICY_CODES: ReadonlySet<string> = new Set([
  'budget_exceeded', 'unknown_model_price', 'budget_unavailable', 'audit_unavailable', 'approval_unavailable',
  'session_taint_unavailable', 'rate_limit_unavailable', 'store_unavailable', 'guardrail_timeout', 'internal_error',
]);

export interface ReplayOptions {
  /** The candidate policy. */
  policy: Policy;
  /** Recorded decisions, oldest first (see decisionRows). */
  records: AsyncIterable<RecordedRow>;
  /** The data folder whose redaction key hash and encrypt redactions read (never created). */
  dataDir?: string;
  /** Milliseconds of guardrail work per decision (the project's guardrails.budgetMs). */
  guardrailBudgetMs?: number;
  /** Called every `progressEvery` records with the count so far (progress on stderr). */
  onProgress?: (replayed: number) => void;
  progressEvery?: number;
}

/** One recorded decision the candidate decides differently. */
export interface ReplayChange {
  seq: number;
  time: string;
  decisionId: string | null;
  agent: string | null;
  kind: string;
  name: string;
  from: Effect;
  to: Effect;
  /** The rules of the recorded decision, and those of the candidate's (empty when the policy default decides). */
  fromRules: string[];
  toRules: string[];
  /** The candidate decision's reason code when not a plain rule match (default, rate_limited, …). */
  code?: string;
}

/** A recorded decision whose outcome under the candidate depends on values masked before they were stored. */
export interface ReplayUnknown {
  seq: number;
  time: string;
  decisionId: string | null;
  agent: string | null;
  kind: string;
  name: string;
  from: Effect;
  /** The effects the candidate could give, depending on the masked values. */
  possible: Effect[];
  /** The masked paths (e.g. input.headers.authorization). */
  masked: string[];
}

export interface ReplayReport {
  policy: { name: string; hash: string };
  /** Decision records read. */
  replayed: number;
  changed: number;
  unchanged: number;
  /** Decisions that depend on masked values: "cannot tell". */
  cannotTell: number;
  /** Decisions made by a stage outside the policy, by reason code: not compared. */
  notCompared: { count: number; byCode: Record<string, number> };
  /** Records with at least one masked value. */
  masked: number;
  /** Records of transform decisions: stored with the transformed action, so replayed on it. */
  recordedTransformed: number;
  /** Records that are not a readable decision. */
  unreadable: number;
  transitions: Array<{ from: Effect; to: Effect; count: number }>;
  /** Changes per rule: the candidate's deciding rule, or `default`. */
  byRule: Array<{ rule: string; count: number }>;
  changes: ReplayChange[];
  unknown: ReplayUnknown[];
  elapsedMs: number;
  perSecond: number;
}

interface RecordedDecision {
  effect: Effect;
  action: Action;
  reasons: Reason[];
}

/**
 * Re-decides recorded decisions under a candidate policy and reports each one that would change. Writes nothing: the
 * decisions are evaluated by the pipeline without audit, budgets, approvals or session taint, and rate limits are
 * counted in memory, in recorded order, at the recorded times (counts start empty at the first record replayed).
 *
 * Masked values are handled by what the conditions read: a condition leaf whose path reaches a masked value may be
 * true, false or fail, every other leaf is evaluated, and the combining is done over every possibility
 * (possibleEffects). When more than one effect is possible the decision is "cannot tell"; when only one is, it is
 * compared as any other. This is sound for what conditions read (each leaf declares its paths when compiled); it does
 * not model a transform step failing on a masked value.
 */
export async function replayDecisions(options: ReplayOptions): Promise<ReplayReport> {
  const started = performance.now();
  const { policy } = options;
  const compiled = policy.compiled;
  const rateLimits = new MemoryRateLimitStore();
  let now = new Date(0);
  const base: PipelineContext = {
    policy,
    redactionKey: readOnlyRedactionKey(options.dataDir),
    guardrails: { budgetMs: options.guardrailBudgetMs },
    now: () => now,
  };
  const counting: PipelineContext = { ...base, rateLimits };
  const report: ReplayReport = {
    policy: { name: policy.name, hash: policy.hash },
    replayed: 0, changed: 0, unchanged: 0, cannotTell: 0, notCompared: { count: 0, byCode: {} }, masked: 0, recordedTransformed: 0, unreadable: 0,
    transitions: [], byRule: [], changes: [], unknown: [], elapsedMs: 0, perSecond: 0,
  };
  const transitions = new Map<string, number>();
  const byRule = new Map<string, number>();
  const every = options.progressEvery ?? 10_000;

  // Policies whose guardrails call a service need the pipeline to prepare them; the others are decided synchronously.
  const needsPipeline = [...compiled.guardrails.values()].some((g) => g.async);
  const evalOptions = { budgetMs: options.guardrailBudgetMs };
  const redaction = { key: base.redactionKey! };
  // Only time conditions and rate limits read the decision's time; parsing it is a tenth of a small decision.
  const readsTime = needsPipeline || readsClock(compiled) || compiled.rules.some((r) => r.rate !== undefined);

  for await (const record of options.records) {
    report.replayed++;
    if (options.onProgress && report.replayed % every === 0) options.onProgress(report.replayed);
    const recorded = readRecorded(record.dataText);
    if (!recorded) {
      report.unreadable++;
      continue;
    }
    const outside = recorded.reasons.find((r) => r.code !== undefined && OUTSIDE_POLICY_CODES.has(r.code));
    if (outside) {
      report.notCompared.count++;
      report.notCompared.byCode[outside.code!] = (report.notCompared.byCode[outside.code!] ?? 0) + 1;
      continue;
    }
    if (recorded.effect === 'transform') report.recordedTransformed++;
    if (readsTime) {
      const time = Date.parse(record.time);
      now = new Date(Number.isFinite(time) ? time : 0);
    }
    const masked = mayHoldMask(record.dataText) ? maskedPaths(recorded.action) : [];
    if (masked.length > 0) {
      report.masked++;
      const possible = possibleEffects(compiled, recorded.action, newEvalContext(compiled, redaction, evalOptions, now), masked);
      if (possible.size > 1) {
        report.cannotTell++;
        report.unknown.push({ ...where(record, recorded), from: recorded.effect, possible: [...possible], masked: masked.map((p) => p.join('.')) });
        continue;
      }
    }
    let decision: Decision;
    if (needsPipeline) decision = await evaluateAction(counting, recorded.action);
    else {
      decision = evaluatePolicy(compiled, recorded.action, newEvalContext(compiled, redaction, evalOptions, readsTime ? now : undefined));
      const { rules, windows } = rateWindowsOf(decision, recorded.action);
      if (windows.length > 0) decision = applyTake(decision, rules, rateLimits.takeNow({ decisionId: decision.id, at: now.getTime(), windows })).decision;
    }
    if (decision.effect === recorded.effect) {
      report.unchanged++;
      continue;
    }
    report.changed++;
    const change = changeOf(record, recorded, decision);
    report.changes.push(change);
    const key = `${change.from}\u0000${change.to}`;
    transitions.set(key, (transitions.get(key) ?? 0) + 1);
    const rule = change.toRules[0] ?? change.code ?? 'default';
    byRule.set(rule, (byRule.get(rule) ?? 0) + 1);
  }

  report.transitions = [...transitions].map(([key, count]) => {
    const [from, to] = key.split('\u0000') as [Effect, Effect];
    return { from, to, count };
  }).sort((a, b) => b.count - a.count);
  report.byRule = [...byRule].map(([rule, count]) => ({ rule, count })).sort((a, b) => b.count - a.count || a.rule.localeCompare(b.rule));
  report.elapsedMs = performance.now() - started;
  report.perSecond = report.elapsedMs > 0 ? Math.round((report.replayed / report.elapsedMs) * 1000) : 0;
  return report;
}

const EFFECTS = new Set<string>(['allow', 'deny', 'transform', 'require_approval']);

function readRecorded(text: string): RecordedDecision | undefined {
  let data: { effect?: unknown; action?: unknown; reasons?: unknown };
  try {
    data = JSON.parse(text) as typeof data;
  } catch {
    return undefined;
  }
  if (!data || typeof data !== 'object' || typeof data.effect !== 'string' || !EFFECTS.has(data.effect)) return undefined;
  if (data.action === null || typeof data.action !== 'object' || Array.isArray(data.action)) return undefined;
  return { effect: data.effect as Effect, action: data.action as Action, reasons: Array.isArray(data.reasons) ? (data.reasons as Reason[]) : [] };
}

function where(record: RecordedRow, recorded: RecordedDecision) {
  return {
    seq: record.seq,
    time: record.time,
    decisionId: record.decisionId,
    agent: record.agentId,
    kind: String(recorded.action.kind),
    name: String(recorded.action.name),
  };
}

function changeOf(record: RecordedRow, recorded: RecordedDecision, decision: Decision): ReplayChange {
  const deciding = decision.reasons.filter((r) => r.effect === decision.effect);
  const code = deciding.find((r) => r.code !== undefined)?.code;
  return {
    ...where(record, recorded),
    from: recorded.effect,
    to: decision.effect,
    fromRules: recorded.reasons.flatMap((r) => (typeof r.rule === 'string' ? [r.rule] : [])),
    toRules: [...new Set(deciding.flatMap((r) => (r.rule ? [r.rule] : [])))],
    ...(code !== undefined ? { code } : {}),
  };
}
