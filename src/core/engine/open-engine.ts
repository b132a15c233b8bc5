import type { Action, Decision } from '../action.js';
import type { Approvals } from '../approvals/service.js';
import type { AuditRecorder } from '../audit/recorder.js';
import type { AuditSink } from '../audit/sink.js';
import type { CostContext } from '../cost/enforce.js';
import { lazyRedactionKey, readOnlyRedactionKey } from '../guardrails/redaction-key.js';
import { decide, evaluateAction, preview, recordAnswer, recordOutcome, type GuardrailRuntime, type Outcome, type PipelineContext, type Preview } from '../pipeline.js';
import type { RuleTrace } from '../policy/evaluate.js';
import type { Policy } from '../policy/policy.js';
import { MemorySessionTaintStore } from '../sessions/memory-taint-store.js';
import { sessionIdOf, SessionTaint } from '../sessions/taint.js';
import { DecisionTrace, type DecisionTracer, type TracedDecision } from '../telemetry/decision-trace.js';
import { withAgentId } from './agent-id.js';
import { openApprovals } from './approvals.js';
import type { AnswerRecords, Engine, EngineOptions, NotificationSender, PerCall } from './types.js';

export type { AnswerRecords, Engine, EngineNotifications, EngineOptions, NotificationSender, PerCall } from './types.js';

/**
 * Opens the one engine every front door decides with (the SDK's local mode, the sidecar, `policy simulate`,
 * `policy test`, the approvals commands): the audit recorder, the redaction key, cost, approvals and their
 * notifications, built once, around the one pipeline of core/pipeline.ts.
 *
 * `record: false` writes nothing: no store is opened, the redaction key is read but never created (see
 * readOnlyRedactionKey), budgets are not held (they live in the store's ledger), rate limits are not counted (their
 * slots live in the store) and a require_approval decision carries no approval. Effects, reasons and rules are the same as with `record: true`.
 *
 * @example
 * const engine = await openEngine({ policy, record: true, dataDir: '.agentguard', agentId: 'support-bot' });
 * try { const decision = await engine.decide({ kind: 'tool', name: 'db.query', input: { sql: 'SELECT 1' } }); }
 * finally { await engine.close(); }
 */
export async function openEngine(options: EngineOptions): Promise<Engine> {
  const given = options.policy;
  let getPolicy: () => Policy = typeof given === 'function' ? given : () => given;

  let recorder: AuditRecorder | undefined;
  let ownsRecorder = false;
  let audit: AuditSink | undefined;
  let cost: CostContext | undefined;
  let approvals: Approvals | undefined;
  let sender: NotificationSender | undefined;
  let redactionKey: () => Uint8Array;

  if (options.record) {
    const dataDir = options.dataDir;
    if (dataDir === undefined) throw new TypeError('openEngine: `record: true` needs `dataDir`');
    recorder = options.recorder;
    if (recorder === undefined) {
      // Loaded on first use, so importing the SDK or running `agentguard --help` does not load the native SQLite module.
      const { AuditRecorder } = await import('../audit/recorder.js');
      recorder = await AuditRecorder.open({ dataDir, ...(options.storeUrl ? { url: options.storeUrl } : {}), ...(options.groupCommit ? { groupCommit: options.groupCommit } : {}) });
      ownsRecorder = true;
    }
    try {
      audit = options.auditSink ? options.auditSink(recorder) : recorder;
      redactionKey = lazyRedactionKey(dataDir);
      const { costContext } = await import('../cost/context.js');
      cost = costContext({
        config: options.cost?.config,
        where: options.cost?.where ?? 'cost',
        store: recorder.store.cost,
        dataDir,
        audit: recorder,
        ...(options.onAlert ? { onAlert: options.onAlert } : {}),
      });
      ({ approvals, sender } = await openApprovals(recorder, options.notifications, options.now));
    } catch (error) {
      if (ownsRecorder) await recorder.close().catch(() => undefined);
      throw error;
    }
  } else {
    redactionKey = readOnlyRedactionKey(options.dataDir);
  }

  // Taint is read before the policy decides and written after it, before the decision is recorded (the pipeline's
  // `observe`); with `record: false` it lives in memory for the engine's life.
  const sessions = new SessionTaint(recorder ? recorder.store.sessionTaint : new MemorySessionTaintStore(), {
    ...(options.sessions?.untrusted ? { untrusted: options.sessions.untrusted } : {}),
    ...(options.now ? { now: options.now } : {}),
  });
  const observe = async (action: Action, decision: Decision): Promise<Decision> => {
    try {
      await sessions.observe(action, decision);
      return decision;
    } catch (error) {
      // The session read untrusted content and that could not be stored: its later actions would look clean.
      return { ...decision, effect: 'deny', action, reasons: [{ effect: 'deny', code: 'session_taint_unavailable', message: `the session's taint could not be recorded (${(error as Error).message})` }] };
    }
  };
  const guardrails: GuardrailRuntime = options.guardrails ?? {};
  const context = (): PipelineContext => ({
    policy: getPolicy(),
    redactionKey,
    guardrails,
    observe,
    ...(audit ? { audit } : {}),
    ...(cost ? { cost } : {}),
    ...(approvals ? { approvals } : {}),
    ...(recorder ? { rateLimits: recorder.store.rateLimits } : {}),
    ...(options.now ? { now: options.now } : {}),
  });
  const subject = (action: Action, call: PerCall | undefined): Action => withAgentId(action, call?.agentId ?? options.agentId);
  const tracer = options.tracer;
  // Traced calls only (`tracer` set): the session's taint is read before the pipeline runs, a stage of its own for
  // actions in a session.
  const applied = (action: Action, call: PerCall | undefined, trace: DecisionTrace): Promise<Action> => {
    const read = () => sessions.apply(subject(action, call));
    return sessionIdOf(action) !== undefined ? trace.time('session.read', read) : read();
  };
  /**
   * Runs one pipeline call with its stage timings collected, and hands them to the tracer once it is done (or threw).
   * A tracer that throws changes nothing: the decision is the pipeline's either way. Without a tracer the engine's
   * methods call the pipeline directly, as if tracing did not exist.
   */
  const traced = async <T>(
    to: DecisionTracer,
    operation: TracedDecision['operation'],
    call: PerCall | undefined,
    action: Action,
    run: (ctx: PipelineContext, trace: DecisionTrace) => Promise<T>,
    done: (result: T | undefined) => Pick<TracedDecision, 'decision' | 'outcome'>,
  ): Promise<T> => {
    const trace = new DecisionTrace(call?.trace);
    let result: T | undefined;
    let error: unknown;
    try {
      result = await run({ ...context(), trace }, trace);
      return result;
    } catch (thrown) {
      error = thrown;
      throw thrown;
    } finally {
      trace.finish();
      const seen = done(result);
      reportTrace(to, { operation, action: subject(action, call), ...seen, trace, ...(error !== undefined ? { error } : {}) });
    }
  };
  let closed = false;

  return {
    get policy() {
      return getPolicy();
    },
    setPolicy(policy: Policy) {
      getPolicy = () => policy;
    },
    recording: options.record,
    subject,
    async decide(action, call) {
      if (tracer) return traced(tracer, 'decide', call, action, async (ctx, trace) => decide(ctx, await applied(action, call, trace)), (decision) => ({ decision }));
      return decide(context(), await sessions.apply(subject(action, call)));
    },
    async preview(action, call) {
      if (tracer) return traced(tracer, 'preview', call, action, async (ctx, trace) => preview(ctx, await applied(action, call, trace)), (result) => ({ decision: result?.decision }));
      return preview(context(), await sessions.apply(subject(action, call)));
    },
    explain: (action, call): RuleTrace[] => getPolicy().explain(subject(action, call), options.now?.()),
    answer(call): AnswerRecords {
      const made: Decision[] = [];
      return {
        decide: async (action) => {
          const decision = tracer
            ? await traced(tracer, 'answer', call, action, async (ctx, trace) => evaluateAction(ctx, await applied(action, call, trace)), (answer) => ({ decision: answer }))
            : await evaluateAction(context(), await sessions.apply(subject(action, call)));
          made.push(decision);
          return decision;
        },
        commit: (decision, outcome) =>
          tracer
            ? traced(tracer, 'outcome', call, decision.action, (ctx) => recordAnswer(ctx, made, decision, outcome), () => ({ decision, outcome }))
            : recordAnswer(context(), made, decision, outcome),
      };
    },
    async recordOutcome(decision: Decision, outcome: Outcome, call?: PerCall) {
      if (tracer) {
        const record = async (ctx: PipelineContext, trace: DecisionTrace) => {
          await recordOutcome(ctx, decision, outcome);
          const observe = () => sessions.observeOutcome(decision, outcome);
          await (sessionIdOf(decision.action) !== undefined ? trace.time('session', observe) : observe());
        };
        return traced(tracer, 'outcome', call, decision.action, record, () => ({ decision, outcome }));
      }
      await recordOutcome(context(), decision, outcome);
      await sessions.observeOutcome(decision, outcome);
    },
    sessions,
    approvals,
    recorder,
    audit,
    cost,
    redactionKey,
    guardrails,
    sender,
    async close() {
      if (closed) return;
      closed = true;
      await sender?.stop();
      if (ownsRecorder) await recorder?.close();
    },
  };
}

function reportTrace(tracer: DecisionTracer, traced: TracedDecision): void {
  try {
    tracer.record(traced);
  } catch {
    // Telemetry never changes or fails a decision.
  }
}
