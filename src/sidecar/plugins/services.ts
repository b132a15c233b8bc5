import type { Approvals } from '../../core/approvals/service.js';
import type { Engine } from '../../core/engine/types.js';
import type { NotifyChannel } from '../../notify/types.js';
import type { AuditRecorder } from '../../core/audit/recorder.js';
import type { GuardrailRuntime } from '../../core/pipeline.js';
import type { DecisionCache } from './decision-cache.js';
import type { SidecarMetrics } from './metrics.js';
import type { PolicyState } from './policy-state.js';

/** The last time the audit trail refused a decision's record (decisions are then denied), or null. */
export interface AuditHealth {
  /** `code`: the error's code when it had one (STORE_UNAVAILABLE: the shared store could not be reached). */
  lastFailure: { at: string; message: string; code?: string } | null;
}

/** What the routes share: one instance per app, handed to each route module. */
export interface SidecarServices {
  /**
   * The one engine (openEngine): decisions, previews and outcomes go through it. It records through the recorder as
   * auditSinkFor wraps it (store write failures kept in auditHealth), with the redaction key, cost and approvals it built.
   */
  engine: Engine;
  policy: PolicyState;
  recorder: AuditRecorder;
  metrics: SidecarMetrics;
  decisions: DecisionCache;
  auditHealth: AuditHealth;
  /** The agentguard data folder: its keys verify the audit trail and it must stay writable. */
  dataDir: string;
  /** Approvals of require_approval decisions, kept in the store, every change audited and queued for notification. */
  approvals: Approvals;
  /** Where approval notifications go; their secrets also check the signatures of callbacks. */
  notify: readonly NotifyChannel[];
  /** The guardrail budget per decision and the worker threads that keep large texts off the event loop. */
  guardrails: GuardrailRuntime;
}
