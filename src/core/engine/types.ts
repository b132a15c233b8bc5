import type { Action, Decision } from '../action.js';
import type { DeliveryStore, ChannelSubscription } from '../approvals/deliveries.js';
import type { Approvals } from '../approvals/service.js';
import type { AuditRecorder } from '../audit/recorder.js';
import type { AuditSink } from '../audit/sink.js';
import type { BudgetAlert, CostContext } from '../cost/enforce.js';
import type { GuardrailRuntime, Outcome, Preview } from '../pipeline.js';
import type { RuleTrace } from '../policy/evaluate.js';
import type { Policy } from '../policy/policy.js';
import type { SessionsConfig } from '../sessions/config.js';
import type { SessionTaint } from '../sessions/taint.js';
import type { DecisionTracer, TraceCall } from '../telemetry/decision-trace.js';

/** Sends queued approval notifications (src/notify's Deliverer): kicked when a change is queued, stopped on close. */
export interface NotificationSender {
  kick(): void;
  idle(): Promise<void>;
  stop(): Promise<void>;
}

/** Approval notifications: the channels changes are queued for, and what sends them from this process. */
export interface EngineNotifications {
  /** The configured channels and the events each wants (see readNotifySetup); changes are queued for them. */
  subscriptions: readonly ChannelSubscription[];
  /** Builds the sender once the store is open; without one, queued notifications wait for another process (the sidecar). */
  sender?: (deliveries: DeliveryStore) => NotificationSender;
}

export interface EngineOptions {
  /** The policy, or a getter read at every decision (the sidecar's hot reload); `engine.setPolicy()` replaces it. */
  policy: Policy | (() => Policy);
  /**
   * true: every decision and outcome is recorded in the audit trail, budgets are held, approvals are created.
   * false: nothing is written anywhere (see openEngine).
   */
  record: boolean;
  /**
   * The agentguard data folder: the store, the signing keys and the redaction key (needed with `record: true`). With
   * `record: false` only its redaction key is read, when it exists.
   */
  dataDir?: string;
  /** An open recorder of `dataDir` to record with; the engine does not close it. Default: the engine opens (and closes) one. */
  recorder?: AuditRecorder;
  /** A fleet's PostgreSQL store for the recorder the engine opens (default: see core/store/store-url.ts). */
  storeUrl?: string;
  /** How the engine opens its recorder: `microtask` for an agent's own calls (see AuditRecorderOptions.groupCommit). */
  groupCommit?: 'turn' | 'microtask';
  /** Wraps the recorder as decisions and outcomes use it (the sidecar keeps its readiness that way). */
  auditSink?: (recorder: AuditRecorder) => AuditSink;
  /** Put on every action that names no agent (a call may give its own, see PerCall). */
  agentId?: string;
  /** The `cost` section of the project config (prices, budgets) and where it came from, for error messages. */
  cost?: { config: unknown; where: string };
  /** Called when a budget crosses an alert threshold (after the alert is recorded). */
  onAlert?: (alert: BudgetAlert) => void;
  notifications?: EngineNotifications;
  /** The guardrail budget per decision and worker threads (the caller owns and closes a pool it passes). */
  guardrails?: GuardrailRuntime;
  /** The `sessions` section of the project config: which action names' results taint a session (see core/sessions). */
  sessions?: SessionsConfig;
  /** The clock: the time of each decision, read by `time` conditions and rate limits (`--at` of the policy commands). */
  now?: () => Date;
  /**
   * Receives the stage timings of every decision, preview and outcome (src/telemetry exports them as OpenTelemetry
   * spans). Without one nothing is timed.
   */
  tracer?: DecisionTracer;
}

/** Per-call settings: the agent a sidecar token decides for, and where its trace hangs. */
export interface PerCall {
  /** Put on the action when it names no agent (instead of the engine's agentId). */
  agentId?: string;
  /** The caller's trace context, arrival time and earlier stages (the sidecar's request), read only with a tracer. */
  trace?: TraceCall;
}

/** Decisions about one model answer, recorded together with the call's outcome by `commit`, in one transaction. */
export interface AnswerRecords {
  decide(action: Action): Promise<Decision>;
  commit(call: Decision, outcome: Outcome): Promise<void>;
}

/** What openEngine returns: the one way to decide, preview, explain and record. */
export interface Engine {
  /** The policy in force now. */
  readonly policy: Policy;
  setPolicy(policy: Policy): void;
  /** Whether decisions are recorded (`record` of the options). */
  readonly recording: boolean;
  /** The action as the engine decides it: with the agent id filled in. */
  subject(action: Action, call?: PerCall): Action;
  /** Decides an action; with `record`, the answer comes once its audit record is durable (deny if it cannot be). */
  decide(action: Action, call?: PerCall): Promise<Decision>;
  /** The same pipeline, never recorded, with the hold-back a stream of such text needs. */
  preview(action: Action, call?: PerCall): Promise<Preview>;
  /** Every rule's match result for the action the engine decides (agent id filled in). */
  explain(action: Action, call?: PerCall): RuleTrace[];
  /** Decisions about one model answer, recorded by `commit` together with the call's outcome. */
  answer(call?: PerCall): AnswerRecords;
  /** Records what happened when an allowed action ran (nothing with `record: false`). */
  recordOutcome(decision: Decision, outcome: Outcome, call?: PerCall): Promise<void>;
  /**
   * Session taint: actions naming `context.session.id` are decided with the session's `tainted`/`taintSources` as the
   * store holds them, and an output with an injection (or from an untrusted source) taints its session.
   */
  readonly sessions: SessionTaint;
  /** Approvals of require_approval decisions; undefined with `record: false`. */
  readonly approvals: Approvals | undefined;
  readonly recorder: AuditRecorder | undefined;
  /** The sink decisions are recorded in (the recorder, or what `auditSink` made of it). */
  readonly audit: AuditSink | undefined;
  /** Prices, ledger and budgets; undefined with `record: false`. */
  readonly cost: CostContext | undefined;
  readonly redactionKey: () => Uint8Array;
  readonly guardrails: GuardrailRuntime;
  /** The notification sender built from `notifications.sender`, if any. */
  readonly sender: NotificationSender | undefined;
  /** Stops the notification sender and closes the recorder the engine opened (a final signed checkpoint). */
  close(): Promise<void>;
}
