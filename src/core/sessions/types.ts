/**
 * Session taint: once a session has read untrusted content (a tool result with a prompt injection in it, or a result
 * from a source the project marks untrusted), its later actions say so in `context.session`, so a policy can hold back
 * sensitive actions (send, write, pay) after that. The store keeps the sources; nothing can remove them.
 */

/** Why a session was tainted. */
export type TaintReason = 'injection' | 'untrusted';

/** One thing that tainted a session: which action's result, why, and when (ISO 8601 UTC). */
export interface TaintSource {
  /** The action name whose result tainted the session (`<server>.<tool>` for MCP, the protected function's name). */
  source: string;
  /** The kind of that action (`mcp_output`, `llm_output`, `tool`, …). */
  kind: string;
  reason: TaintReason;
  at: string;
  /** The decision about that result, when there was one, to find it in the audit trail. */
  decisionId?: string;
}

/** The session-taint part of the store: append-only, shared by every process on the data folder. */
export interface SessionTaintStore {
  /** The first `limit` sources that tainted `session`, oldest first (empty when it is clean). */
  sources(session: string, limit: number): Promise<TaintSource[]>;
  /** Records one more source for `session`. There is deliberately no way to remove one. */
  add(session: string, source: TaintSource): Promise<void>;
}
