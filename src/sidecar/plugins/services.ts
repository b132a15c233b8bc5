import type { Approvals } from '../../core/approvals/service.js';
import type { Engine } from '../../core/engine/types.js';
import type { NotifyChannel } from '../../notify/types.js';
import type { CostContext } from '../../core/cost/enforce.js';
import type { AuditRecorder } from '../../core/audit/recorder.js';
import type { AuditSink } from '../../core/audit/sink.js';
import type { GuardrailRuntime } from '../../core/pipeline.js';
import type { DecisionCache } from './decision-cache.js';
import type { SidecarMetrics } from './metrics.js';
import type { PolicyState } from './policy-state.js';

/** The last time the audit trail refused a decision's record (decisions are then denied), or null. */
export interface AuditHealth {
  lastFailure: { at: string; message: string } | null;
}

/** What the routes share: one instance per app, handed to each route module. */
export interface SidecarServices {
  /** The one engine: decisions, previews and outcomes go through it; the fields below are its parts, for the routes that read them. */
  engine: Engine;
  policy: PolicyState;
  recorder: AuditRecorder;
  /** The recorder as decisions and outcomes use it: write failures of the store are kept in auditHealth (see auditSinkFor). */
  audit: AuditSink;
  metrics: SidecarMetrics;
  decisions: DecisionCache;
  auditHealth: AuditHealth;
  /** The agentguard data folder: its keys verify the audit trail and it must stay writable. */
  dataDir: string;
  /** Key of `hash` and `encrypt` redaction, loaded (or created) when a policy first needs it. */
  redactionKey: () => Uint8Array;
  /** Prices, the ledger and budgets: decisions reserve, outcomes with usage settle. */
  cost: CostContext;
  /** Approvals of require_approval decisions, kept in the store, every change audited and queued for notification. */
  approvals: Approvals;
  /** Where approval notifications go; their secrets also check the signatures of callbacks. */
  notify: readonly NotifyChannel[];
  /** The guardrail budget per decision and the worker threads that keep large texts off the event loop. */
  guardrails: GuardrailRuntime;
}
