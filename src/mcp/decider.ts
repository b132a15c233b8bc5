import { randomBytes } from 'node:crypto';
import type { Action, Decision } from '../core/action.js';
import type { Engine } from '../core/engine/types.js';
import type { Outcome } from '../core/pipeline.js';
import { settleApproval, waitFor, type GuardApprovals } from '../sdk/approvals.js';
import type { SidecarDecider } from '../sdk/sidecar-client.js';

/**
 * What the gateway decides with: the engine in this process (local mode) or a sidecar (sidecar mode). Every method
 * answers with a Decision and never rejects: a failure to decide is a deny.
 */
export interface McpDecider {
  decide(action: Action): Promise<Decision>;
  /** For require_approval: waits up to `waitMs` for a person's answer; allow once approved (the approval spent), else deny. */
  settle(decision: Decision, waitMs: number): Promise<Decision>;
  /** Records what happened to an allowed call; failures are reported to `onError`, never thrown. */
  recordOutcome(decision: Decision, outcome: Outcome): Promise<void>;
  close(): Promise<void>;
}

/** A deny the gateway makes itself (no policy could decide): recorded nowhere, marked by its id and policy name. */
export function gatewayDeny(action: Action, code: string, message: string, started = performance.now()): Decision {
  return {
    id: `dec_gateway_${randomBytes(16).toString('hex')}`,
    effect: 'deny',
    action,
    reasons: [{ effect: 'deny', code, message }],
    findings: [],
    policy: { name: 'mcp-gateway', hash: '' },
    elapsedUs: Math.round((performance.now() - started) * 1000),
  };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

async function settleWith(approvals: GuardApprovals | undefined, decision: Decision, waitMs: number): Promise<Decision> {
  const id = decision.approval?.id;
  const refuse = (code: string, message: string): Decision => ({ ...decision, effect: 'deny', reasons: [...decision.reasons, { effect: 'deny', code, message }] });
  if (!approvals || !id) return refuse('approval_unavailable', 'The policy requires approval, but no approval could be created for this call, so it did not run');
  if (waitMs <= 0) {
    return refuse('approval_required', `Approval ${id} is required before this call may run; a person can approve it with \`agentguard approvals approve ${id}\`, then the call can be made again`);
  }
  try {
    return await settleApproval(approvals, decision, { timeoutMs: waitMs, pollMs: Math.min(250, waitMs) });
  } catch (error) {
    return refuse('approval_error', `Waiting for approval ${id} failed, so the call did not run: ${messageOf(error)}`);
  }
}

/** Local mode: the one engine (opened by the command with the project's setup, `record: true`). */
export function engineDecider(engine: Engine, onError: (message: string) => void): McpDecider {
  const service = engine.approvals;
  const approvals: GuardApprovals | undefined = service && {
    get: (id) => service.get(id),
    wait: (id, options) => waitFor((key) => service.get(key), id, options),
    consume: (id, action) => service.consume(id, action),
  };
  return {
    async decide(action) {
      const started = performance.now();
      try {
        return await engine.decide(action);
      } catch (error) {
        return gatewayDeny(action, 'decision_error', `The call could not be decided, so it was denied: ${messageOf(error)}`, started);
      }
    },
    settle: (decision, waitMs) => settleWith(approvals, decision, waitMs),
    async recordOutcome(decision, outcome) {
      if (decision.id.startsWith('dec_gateway_')) return;
      try {
        await engine.recordOutcome(decision, outcome);
      } catch (error) {
        onError(`recording the outcome of ${decision.id} failed: ${messageOf(error)}`);
      }
    },
    close: () => engine.close(),
  };
}

/** Sidecar mode: the SDK's sidecar decider, which already turns every failure into a deny (`sidecar_unavailable`). */
export function sidecarDecider(sidecar: SidecarDecider, onError: (message: string) => void): McpDecider {
  const remote = sidecar.approvals();
  const approvals: GuardApprovals = {
    get: (id) => remote.get(id),
    wait: (id, options) => waitFor((key) => remote.get(key), id, options),
    consume: (id, action) => remote.consume(id, action),
  };
  return {
    async decide(action) {
      const started = performance.now();
      try {
        return await sidecar.decide(action);
      } catch (error) {
        return gatewayDeny(action, 'decision_error', `The call could not be decided, so it was denied: ${messageOf(error)}`, started);
      }
    },
    settle: (decision, waitMs) => settleWith(approvals, decision, waitMs),
    async recordOutcome(decision, outcome) {
      try {
        await sidecar.recordOutcome(decision, outcome);
      } catch (error) {
        onError(`recording the outcome of ${decision.id} failed: ${messageOf(error)}`);
      }
    },
    close: async () => {},
  };
}

/** When the policy or the engine could not be set up: every call is denied with the problem named. */
export function failedDecider(code: string, problem: string): McpDecider {
  return {
    decide: async (action) => gatewayDeny(action, code, problem),
    settle: async (decision) => decision,
    recordOutcome: async () => {},
    close: async () => {},
  };
}
