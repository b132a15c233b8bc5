import { performance } from 'node:perf_hooks';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Action } from '../../core/action.js';
import type { Preview } from '../../core/pipeline.js';
import { bindAttributes } from '../../core/tokens/attributes.js';
import { agentOf, tokenOf } from '../plugins/auth.js';
import { perCall } from '../plugins/tracing.js';
import { AgentGuardError } from '../../core/errors.js';
import type { SidecarServices } from '../plugins/services.js';
import { authedErrors, BEARER, decideBody, previewResponse } from '../schemas.js';

const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';

/** `POST /v1/decide`: one action through the decision pipeline; the answer comes once its audit record is durable. */
export function decideRoute(app: FastifyInstance, services: SidecarServices): void {
  app.post<{ Body: { action: Action } }>(
    '/v1/decide',
    {
      config: { auth: 'token' },
      schema: {
        tags: ['decisions'],
        summary: 'Decide an action',
        description:
          'Runs the action through the policy and records the decision in the audit trail before answering. An agent token fills in `action.agent.id` when it is absent and may not name another agent (403); attributes the token was created with (`agent.role`, `context.env`…) are filled in the same way, and a request that sets one to another value is refused (403 ATTRIBUTE_MISMATCH). An admin token may decide for any agent. Run the action only when `effect` is allow or transform.',
        security: BEARER,
        body: decideBody,
        response: { 200: { $ref: 'Decision#' }, ...authedErrors(400, 413, 415) },
      },
    },
    async (request, reply): Promise<string> => {
      const { agentId, action } = tokenAction(request, request.body.action);
      const started = performance.now();
      const decision = await services.engine.decide(action, perCall(request, agentId));
      services.metrics.decided(decision.effect, (performance.now() - started) / 1000);
      const unrecorded = decision.reasons.find((r) => r.code === 'audit_unavailable' || r.code === 'store_unavailable');
      if (unrecorded) request.log.error({ decisionId: decision.id }, unrecorded.message);
      // The decision is core's Decision, the type the response schema is checked against (schemas.ts; the SDK checks
      // every answer too): JSON.stringify writes it for about 8 µs less CPU per answer under load than the schema's
      // compiled serializer (bench sidecar-wrk), and the same text is what the outcome route keeps. A string is sent as
      // it is. Error answers keep the schema's serializers.
      const answer = JSON.stringify(decision);
      services.decisions.add(decision.id, answer);
      reply.header('content-type', JSON_CONTENT_TYPE);
      return answer;
    },
  );
}

/**
 * The agent a token decides for (undefined for admin) and the action with what the token vouches for filled in
 * (`agent.role`, `context.env`…, see bindAttributes); 403 when the action names another agent or sets a bound
 * attribute to another value.
 */
function tokenAction(request: FastifyRequest, action: Action): { agentId: string | undefined; action: Action } {
  const token = tokenOf(request);
  const agentId = agentOf(token);
  const named = action.agent?.id;
  if (agentId !== undefined && named !== undefined && named !== agentId) {
    throw new AgentGuardError('AGENT_MISMATCH', `this token belongs to agent "${agentId}" and cannot decide for agent "${named}"`, {
      actions: ['Leave out action.agent.id (it is filled in from the token), or use the token of that agent.'],
    });
  }
  const bound = bindAttributes(action, token.attributes);
  if ('conflict' in bound) {
    // The value sent is not echoed: it is the agent's text; the bound one is what its own token says.
    throw new AgentGuardError('ATTRIBUTE_MISMATCH', `this token binds action.${bound.conflict.path} to ${JSON.stringify(bound.conflict.bound)}; the request sets it to something else`, {
      actions: [`Leave out action.${bound.conflict.path} (it is filled in from the token), or use a token created with the attribute you need.`],
    });
  }
  return { agentId, action: bound.action };
}

/**
 * `POST /v1/preview`: what the policy would decide, not recorded, with the hold-back a stream of such text needs.
 * Guarded clients check windows of a streamed answer with it; the answer as a whole goes through /v1/decide.
 */
export function previewRoute(app: FastifyInstance, services: SidecarServices): void {
  app.post<{ Body: { action: Action } }>(
    '/v1/preview',
    {
      config: { auth: 'token' },
      schema: {
        tags: ['decisions'],
        summary: 'Preview a decision without recording it',
        description:
          'Runs the action through the same pipeline as /v1/decide but records nothing, so its answer never authorises running the action. `holdBack` is the longest span the guardrails of the rules that may apply can find: a stream of such text must hold back that many characters. Used by guarded LLM clients to check windows of a streamed answer.',
        security: BEARER,
        body: decideBody,
        response: { 200: previewResponse, ...authedErrors(400, 413, 415) },
      },
    },
    async (request): Promise<Preview> => {
      const { agentId, action } = tokenAction(request, request.body.action);
      return services.engine.preview(action, perCall(request, agentId));
    },
  );
}
