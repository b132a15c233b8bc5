import type { FastifyInstance } from 'fastify';
import { recordOutcome, type Outcome } from '../../core/pipeline.js';
import { agentOf, tokenOf } from '../plugins/auth.js';
import { HttpError } from '../plugins/errors.js';
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
        description: `Records whether the action of a decision ran successfully, once per decision. The decision must be one of the last ${services.decisions.capacity} this sidecar made; an agent token may report only on its own agent's decisions.`,
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
        throw new HttpError(404, 'DECISION_NOT_FOUND', `no decision "${id}" is known to this sidecar`, {
          actions: [`Report outcomes with the id of a decision this sidecar made; it remembers the last ${services.decisions.capacity} (not across restarts).`],
        });
      }
      const agentId = agentOf(tokenOf(request));
      if (agentId !== undefined && entry.decision.action?.agent?.id !== agentId) {
        throw new HttpError(403, 'AGENT_MISMATCH', `decision "${id}" was made for another agent; this token belongs to agent "${agentId}"`);
      }
      if (entry.outcomeRecorded) throw new HttpError(409, 'OUTCOME_ALREADY_RECORDED', `the outcome of decision "${id}" was already recorded`);
      // Claimed before the write, so two reports racing for one decision cannot both be recorded.
      entry.outcomeRecorded = true;
      try {
        await recordOutcome({ policy: services.policy.current, audit: services.recorder, cost: services.cost }, entry.decision, request.body);
      } catch (error) {
        entry.outcomeRecorded = false;
        request.log.error({ err: error, decisionId: id }, 'the outcome could not be recorded');
        throw new HttpError(503, 'AUDIT_UNAVAILABLE', 'the outcome could not be recorded in the audit trail; try again');
      }
      return reply.code(204).send();
    },
  );
}
