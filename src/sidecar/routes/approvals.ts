import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Action } from '../../core/action.js';
import { parseDuration } from '../../core/audit/filters.js';
import { isAgentGuardError } from '../../core/errors.js';
import type { ApprovalRecord, ApprovalStatus } from '../../core/approvals/types.js';
import { agentOf, tokenOf } from '../plugins/auth.js';
import { HttpError } from '../plugins/errors.js';
import type { SidecarServices } from '../plugins/services.js';
import { authedErrors, BEARER } from '../schemas.js';

const STATUSES: ApprovalStatus[] = ['pending', 'approved', 'denied', 'expired', 'cancelled'];
const MAX_WAIT_MS = 60_000;
const idParams = { type: 'object', required: ['id'], additionalProperties: false, properties: { id: { type: 'string', minLength: 1, maxLength: 64 } } } as const;
const record = { type: 'object', additionalProperties: true, description: 'An approval record: id, decisionId, actionHash, action, status, requestedAt, expiresAt, decidedBy, comment, consumedAt, …' } as const;

/** The approval, or 404; an agent token sees only its own agent's approvals. */
async function approvalFor(services: SidecarServices, request: FastifyRequest, id: string): Promise<ApprovalRecord> {
  const found = await services.approvals.get(id);
  const agentId = agentOf(tokenOf(request));
  if (!found || (agentId !== undefined && found.agentId !== agentId)) {
    throw new HttpError(404, 'APPROVAL_NOT_FOUND', `no approval "${id}" is known here`, { actions: ['List approvals with GET /v1/approvals (admin), or use the id in decision.approval.id.'] });
  }
  return found;
}

/** An AgentGuardError of the approvals service as the HTTP error it stands for. */
function asHttp(error: unknown): never {
  if (isAgentGuardError(error) && error.code === 'APPROVAL_NOT_FOUND') throw new HttpError(404, error.code, error.message);
  if (isAgentGuardError(error) && error.code === 'APPROVAL_CLOSED') throw new HttpError(409, error.code, error.message);
  if (isAgentGuardError(error) && error.exitCode === 2) throw new HttpError(400, error.code, error.message, { actions: error.actions });
  throw error;
}

/**
 * Approvals of require_approval decisions: list and read them (`?wait=30s` long-polls until a pending one is decided),
 * approve or deny (admin), and spend an approval on the one run it authorises (the agent's own token).
 */
export function approvalRoutes(app: FastifyInstance, services: SidecarServices): void {
  app.get<{ Querystring: { status?: ApprovalStatus; limit?: number } }>(
    '/v1/approvals',
    {
      config: { auth: 'admin' },
      schema: {
        tags: ['approvals'],
        summary: 'List approvals',
        security: BEARER,
        querystring: { type: 'object', additionalProperties: false, properties: { status: { type: 'string', enum: STATUSES }, limit: { type: 'integer', minimum: 1, maximum: 1000 } } },
        response: { 200: { type: 'object', required: ['approvals'], properties: { approvals: { type: 'array', items: record } } }, ...authedErrors(400) },
      },
    },
    async (request) => {
      await services.approvals.sweep();
      return { approvals: await services.approvals.list({ ...(request.query.status ? { status: request.query.status } : {}), limit: request.query.limit ?? 100 }) };
    },
  );

  app.get<{ Params: { id: string }; Querystring: { wait?: string } }>(
    '/v1/approvals/:id',
    {
      config: { auth: 'token' },
      schema: {
        tags: ['approvals'],
        summary: 'Read an approval, optionally waiting for a decision',
        description: 'With `?wait=30s` (at most 60s), answers as soon as a pending approval is approved, denied, expired or cancelled, or when the wait is over. An agent token sees only its own agent\'s approvals.',
        security: BEARER,
        params: idParams,
        querystring: { type: 'object', additionalProperties: false, properties: { wait: { type: 'string', pattern: '^(?:\\d+[smh])+$' } } },
        response: { 200: record, ...authedErrors(400, 404) },
      },
    },
    async (request) => {
      const waitMs = Math.min(MAX_WAIT_MS, request.query.wait ? (parseDuration(request.query.wait) ?? 0) : 0);
      const deadline = Date.now() + waitMs;
      let found = await approvalFor(services, request, request.params.id);
      while (found.status === 'pending' && Date.now() < deadline && !request.raw.destroyed) {
        await new Promise((resolve) => setTimeout(resolve, Math.min(250, deadline - Date.now())));
        found = await approvalFor(services, request, request.params.id);
      }
      return found;
    },
  );

  for (const verb of ['approve', 'deny'] as const) {
    app.post<{ Params: { id: string }; Body: { by: string; comment?: string } }>(
      `/v1/approvals/:id/${verb}`,
      {
        config: { auth: 'admin' },
        schema: {
          tags: ['approvals'],
          summary: verb === 'approve' ? 'Approve a pending approval' : 'Deny a pending approval',
          description: 'Only a pending approval that has not expired can be decided (409 otherwise, with its status). The change is recorded in the audit trail.',
          security: BEARER,
          params: idParams,
          body: {
            type: 'object',
            required: ['by'],
            additionalProperties: false,
            properties: { by: { type: 'string', minLength: 1, maxLength: 200, description: 'Who decides.' }, comment: { type: 'string', maxLength: 2000 } },
          },
          response: { 200: record, ...authedErrors(400, 404, 409, 413, 415) },
        },
      },
      async (request) => {
        const { by, comment } = request.body;
        return services.approvals.decide(request.params.id, { status: verb === 'approve' ? 'approved' : 'denied', by, ...(comment ? { comment } : {}) }).catch(asHttp);
      },
    );
  }

  app.post<{ Params: { id: string }; Body: { action: Action } }>(
    '/v1/approvals/:id/consume',
    {
      config: { auth: 'token' },
      schema: {
        tags: ['approvals'],
        summary: 'Spend an approval on one run of its action',
        description: '`{ "consumed": true }` once, for exactly the action the approval was asked for; false when it is not approved, already used, or for another action.',
        security: BEARER,
        params: idParams,
        body: { type: 'object', required: ['action'], additionalProperties: false, properties: { action: { $ref: 'Action#' } } },
        response: { 200: { type: 'object', required: ['consumed'], properties: { consumed: { type: 'boolean' } } }, ...authedErrors(400, 404, 413, 415) },
      },
    },
    async (request) => {
      const found = await approvalFor(services, request, request.params.id);
      return { consumed: await services.approvals.consume(found.id, request.body.action) };
    },
  );
}
