import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Action } from '../../core/action.js';
import { parseDuration } from '../../core/audit/filters.js';
import { AgentGuardError, isAgentGuardError } from '../../core/errors.js';
import type { ApprovalRecord, ApprovalStatus } from '../../core/approvals/types.js';
import { mayDecide } from '../../core/approvals/entitlement.js';
import type { AuthenticatedToken } from '../plugins/auth.js';
import { tokenOf } from '../plugins/auth.js';
import type { SidecarServices } from '../plugins/services.js';
import { authedErrors, BEARER } from '../schemas.js';
import { pollUntil } from '../../core/poll.js';

const STATUSES: ApprovalStatus[] = ['pending', 'approved', 'denied', 'expired', 'cancelled'];
const MAX_WAIT_MS = 60_000;
const idParams = { type: 'object', required: ['id'], additionalProperties: false, properties: { id: { type: 'string', minLength: 1, maxLength: 64 } } } as const;
const record = { type: 'object', additionalProperties: true, description: 'An approval record: id, decisionId, actionHash, action, status, requestedAt, expiresAt, decidedBy, comment, consumedAt, …' } as const;

/** Whether a token may see an approval: admins all, an agent its own agent's, an approver those it may decide. */
function visibleTo(token: AuthenticatedToken, approval: ApprovalRecord): boolean {
  if (token.scope.kind === 'agent') return approval.agentId === token.scope.agentId;
  if (token.scope.kind === 'approver') return mayDecide(approval, [token.scope.approver]);
  return true;
}

/** The approval, or 404 when it is unknown or not the token's to see. */
async function approvalFor(services: SidecarServices, request: FastifyRequest, id: string): Promise<ApprovalRecord> {
  const found = await services.approvals.get(id);
  if (!found || !visibleTo(tokenOf(request), found)) {
    throw new AgentGuardError('APPROVAL_NOT_FOUND', `no approval "${id}" is known here`, { actions: ['List approvals with GET /v1/approvals (admin), or use the id in decision.approval.id.'] });
  }
  return found;
}

/** Who decides: an approver token's own name, or the `by` an admin token gives. */
function deciderOf(token: AuthenticatedToken, by: string | undefined): string {
  if (token.scope.kind === 'approver') {
    if (by !== undefined && by !== token.scope.approver) {
      throw new AgentGuardError('FORBIDDEN', `this approver token decides as ${JSON.stringify(token.scope.approver)}, not ${JSON.stringify(by)}`, { actions: ['Leave `by` out, or send the token\'s own name.'] });
    }
    return token.scope.approver;
  }
  if (by === undefined) throw new AgentGuardError('APPROVAL_BY_REQUIRED', 'an admin token must say who decides: send `by` in the body', { actions: ['Send { "by": "<name>", "comment": "…" }.'] });
  return by;
}

/** The service's own hints name CLI commands; an HTTP client is told what it can do instead. */
const HTTP_ACTIONS: Partial<Record<string, string[]>> = {
  APPROVAL_NOT_FOUND: ['List approvals with GET /v1/approvals (admin), or use the id in decision.approval.id.'],
  APPROVAL_CLOSED: ['Read it with GET /v1/approvals/{id}; run the action again to ask for a new approval.'],
};

/**
 * An error of the approvals service as the sidecar answers it (the registry's status: unknown 404, closed 409, approver
 * not listed 403, bad input 400), with hints an HTTP client can follow. Anything that is not an AgentGuardError is
 * rethrown (a 500).
 */
export function approvalHttpError(error: unknown): AgentGuardError {
  if (!isAgentGuardError(error)) throw error;
  const actions = HTTP_ACTIONS[error.code];
  return actions ? new AgentGuardError(error.code, error.message, { actions, cause: error }) : error;
}

function asHttp(error: unknown): never {
  throw approvalHttpError(error);
}

/**
 * Approvals of require_approval decisions: list and read them (`?wait=30s` long-polls until a pending one is decided),
 * approve or deny (admin), and spend an approval on the one run it authorises (the agent's own token).
 */
export function approvalRoutes(app: FastifyInstance, services: SidecarServices): void {
  app.get<{ Querystring: { status?: ApprovalStatus; limit?: number } }>(
    '/v1/approvals',
    {
      config: { auth: 'approver' },
      schema: {
        tags: ['approvals'],
        summary: 'List approvals',
        description: 'Newest first. An approver token lists only the approvals it may decide.',
        security: BEARER,
        querystring: { type: 'object', additionalProperties: false, properties: { status: { type: 'string', enum: STATUSES }, limit: { type: 'integer', minimum: 1, maximum: 1000 } } },
        response: { 200: { type: 'object', required: ['approvals'], properties: { approvals: { type: 'array', items: record } } }, ...authedErrors(400) },
      },
    },
    async (request) => {
      const token = tokenOf(request);
      const limit = request.query.limit ?? 100;
      const status = request.query.status ? { status: request.query.status } : {};
      if (token.scope.kind === 'admin') return { approvals: await services.approvals.list({ ...status, limit }) };
      const all = await services.approvals.list({ ...status, limit: 10_000 });
      return { approvals: all.filter((approval) => visibleTo(token, approval)).slice(0, limit) };
    },
  );

  app.get<{ Params: { id: string }; Querystring: { wait?: string } }>(
    '/v1/approvals/:id',
    {
      config: { auth: 'any' },
      schema: {
        tags: ['approvals'],
        summary: 'Read an approval, optionally waiting for a decision',
        description: 'With `?wait=30s` (at most 60s), answers as soon as a pending approval is approved, denied, expired or cancelled, or when the wait is over. An agent token sees only its own agent\'s approvals, an approver token only those it may decide.',
        security: BEARER,
        params: idParams,
        querystring: { type: 'object', additionalProperties: false, properties: { wait: { type: 'string', pattern: '^(?:\\d+[smh])+$' } } },
        response: { 200: record, ...authedErrors(400, 404) },
      },
    },
    async (request) => {
      const waitMs = Math.min(MAX_WAIT_MS, request.query.wait ? (parseDuration(request.query.wait) ?? 0) : 0);
      let found: ApprovalRecord | undefined;
      await pollUntil(
        async () => {
          found = await approvalFor(services, request, request.params.id);
          return found.status !== 'pending' || request.raw.destroyed ? found : undefined;
        },
        { intervalMs: 250, timeoutMs: waitMs },
      );
      return found!;
    },
  );

  for (const verb of ['approve', 'deny'] as const) {
    app.post<{ Params: { id: string }; Body: { by?: string; comment?: string } }>(
      `/v1/approvals/:id/${verb}`,
      {
        config: { auth: 'approver' },
        schema: {
          tags: ['approvals'],
          summary: verb === 'approve' ? 'Approve a pending approval' : 'Deny a pending approval',
          description:
            'Only a pending approval that has not expired can be decided (409 otherwise, with its status). The change is recorded in the audit trail. An admin token names who decides in `by`; an approver token always decides in its own name (a different `by` is refused), and only approvals whose rule lists it or lists nobody (403 otherwise).',
          security: BEARER,
          params: idParams,
          body: {
            type: 'object',
            additionalProperties: false,
            properties: {
              by: { type: 'string', minLength: 1, maxLength: 200, description: 'Who decides: required with an admin token; with an approver token, absent or its own name.' },
              comment: { type: 'string', maxLength: 2000 },
            },
          },
          response: { 200: record, ...authedErrors(400, 404, 409, 413, 415) },
        },
      },
      async (request) => {
        const { comment } = request.body;
        const token = tokenOf(request);
        const by = deciderOf(token, request.body.by);
        const found = await approvalFor(services, request, request.params.id);
        const status = verb === 'approve' ? 'approved' : 'denied';
        return services.approvals.decide(found.id, { status, by, listedOnly: token.scope.kind === 'approver', ...(comment ? { comment } : {}) }).catch(asHttp);
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
