import type { FastifyInstance } from 'fastify';
import type { Decision } from '../../core/action.js';
import type { Outcome } from '../../core/pipeline.js';
import { agentOf, tokenOf } from '../plugins/auth.js';
import { AgentGuardError } from '../../core/errors.js';
import { perCall } from '../plugins/tracing.js';
import type { SidecarServices } from '../plugins/services.js';
import { authedErrors, BEARER, decisionIdParams, outcomeBody } from '../schemas.js';

/** `POST /v1/decisions/:id/outcome`: records what happened when the action of a recent decision ran. */
export function outcomeRoute(app: FastifyInstance, services: SidecarServices): void {
  app.post<{ Params: { id: string }; Body: Outcome }>(
    '/v1/decisions/:id/outcome',
    {
      config: { auth: 'token' },
      schema: {
        tags: ['decisions'],
        summary: 'Report the outcome of an action',
        description: `Records whether the action of a decision ran successfully, once per decision. \`ok\` is refused (409) for a decision whose action was not allowed to run: a deny, or a require_approval whose approval has not been approved and used for a run. The decision must be one of the last ${services.decisions.capacity} this sidecar made; an agent token may report only on its own agent's decisions.`,
        security: BEARER,
        params: decisionIdParams,
        body: outcomeBody,
        response: { 204: { type: 'null', description: 'Recorded.' }, ...authedErrors(400, 404, 409, 413, 415) },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      const entry = services.decisions.get(id);
      if (!entry) {
        throw new AgentGuardError('DECISION_NOT_FOUND', `no decision "${id}" is known to this sidecar`, {
          actions: [`Report outcomes with the id of a decision this sidecar made; it remembers the last ${services.decisions.capacity} (not across restarts).`],
        });
      }
      const agentId = agentOf(tokenOf(request));
      const decision = JSON.parse(entry.json) as Decision;
      if (agentId !== undefined && decision.action?.agent?.id !== agentId) {
        throw new AgentGuardError('AGENT_MISMATCH', `decision "${id}" was made for another agent; this token belongs to agent "${agentId}"`, {
          actions: ['Report the outcome with the token of the agent the decision was made for.'],
        });
      }
      if (entry.outcomeRecorded) throw new AgentGuardError('OUTCOME_ALREADY_RECORDED', `the outcome of decision "${id}" was already recorded`);
      if (request.body.status === 'ok') await assertMayHaveRun(services, decision);
      // Claimed before the write, so two reports racing for one decision cannot both be recorded.
      entry.outcomeRecorded = true;
      try {
        await services.engine.recordOutcome(decision, request.body, perCall(request, agentId));
      } catch (error) {
        entry.outcomeRecorded = false;
        request.log.error({ err: error, decisionId: id }, 'the outcome could not be recorded');
        throw new AgentGuardError('AUDIT_UNAVAILABLE', 'the outcome could not be recorded in the audit trail; try again');
      }
      return reply.code(204).send();
    },
  );
}

/**
 * 409 unless the decision let its action run: allow and transform did; require_approval did only once its approval
 * was approved and spent on a run (the SDK consumes it before running); deny never did. Without this an agent could
 * record a successful run of something the policy refused, and the audit trail would show it as done.
 */
async function assertMayHaveRun(services: SidecarServices, decision: Decision): Promise<void> {
  if (decision.effect === 'allow' || decision.effect === 'transform') return;
  if (decision.effect === 'require_approval' && decision.approval) {
    const approval = await services.approvals.get(decision.approval.id);
    if (approval?.status === 'approved' && approval.consumedAt !== null) return;
    throw new AgentGuardError('APPROVAL_NOT_USED', `decision "${decision.id}" needs approval ${decision.approval.id}, which is ${approval?.status ?? 'unknown'}${approval?.status === 'approved' ? ' but was not used for a run' : ''}, so its action cannot have run`, {
      actions: ['Wait for the approval, consume it (`POST /v1/approvals/{id}/consume`), run the action, then report the outcome; report `error` if the action did not run.'],
    });
  }
  throw new AgentGuardError('DECISION_NOT_ALLOWED', `decision "${decision.id}" was ${decision.effect}, so its action may not run and cannot have run successfully`, {
    actions: ['Report `ok` only for allow and transform decisions; report `error` if the action was attempted and failed.'],
  });
}
