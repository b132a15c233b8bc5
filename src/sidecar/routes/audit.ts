import type { FastifyInstance } from 'fastify';
import { parseAuditFilters, type AuditFilterInput } from '../../core/audit/filters.js';
import type { AuditQuery, AuditRecord, VerifyResult } from '../../core/audit/types.js';
import { verifyDataFolderAudit } from '../../core/audit/verify-data-folder.js';
import { AgentGuardError, isAgentGuardError } from '../../core/errors.js';
import { agentOf, tokenOf } from '../plugins/auth.js';
import type { SidecarServices } from '../plugins/services.js';
import { auditQueryResponse, auditQuerystring, authedErrors, BEARER, noQuery, verifyResponse } from '../schemas.js';

/** Records answered when the request sets no limit. */
export const DEFAULT_AUDIT_LIMIT = 100;
/** Most records one request may ask for; `agentguard audit export` is the tool for everything. */
export const MAX_AUDIT_LIMIT = 1000;

/** Turns the query string into an AuditQuery, with the errors of `audit query` naming the parameters instead of flags. */
function parseQuery(input: AuditFilterInput): AuditQuery {
  try {
    return parseAuditFilters(input, { label: (name) => name });
  } catch (error) {
    if (isAgentGuardError(error)) throw new AgentGuardError('INVALID_QUERY', error.message, { actions: error.actions });
    throw error;
  }
}

/** `GET /v1/audit` (any token; agent tokens see only their agent) and `GET /v1/audit/verify` (admin). */
export function auditRoutes(app: FastifyInstance, services: SidecarServices): void {
  app.get<{ Querystring: AuditFilterInput }>(
    '/v1/audit',
    {
      config: { auth: 'token' },
      schema: {
        tags: ['audit'],
        summary: 'Query the audit trail',
        description: `The filters of \`agentguard audit query\`; records newest first, at most ${MAX_AUDIT_LIMIT}. An agent token sees only its own agent's records (naming another agent is a 403).`,
        security: BEARER,
        querystring: auditQuerystring,
        response: { 200: auditQueryResponse, ...authedErrors(400) },
      },
    },
    async (request): Promise<{ records: AuditRecord[] }> => {
      const agentId = agentOf(tokenOf(request));
      const input = request.query;
      if (agentId !== undefined && input.agent !== undefined && input.agent !== agentId) {
        throw new AgentGuardError('AGENT_MISMATCH', `this token belongs to agent "${agentId}" and cannot read the records of agent "${input.agent}"`, {
          actions: ['Leave out `agent` (an agent token reads its own records), or use an admin token.'],
        });
      }
      const query = parseQuery({ ...input, agent: agentId ?? input.agent });
      const limit = query.limit ?? DEFAULT_AUDIT_LIMIT;
      if (limit > MAX_AUDIT_LIMIT) {
        throw new AgentGuardError('INVALID_QUERY', `limit ${limit} is more than ${MAX_AUDIT_LIMIT}`, {
          actions: [`Ask for at most ${MAX_AUDIT_LIMIT} records and narrow the time range with since/until, or use \`agentguard audit export\`.`],
        });
      }
      const records = await services.recorder.store.audit.query({ ...query, limit, order: 'desc' });
      return { records };
    },
  );

  app.get(
    '/v1/audit/verify',
    {
      config: { auth: 'admin' },
      schema: {
        tags: ['audit'],
        summary: 'Verify the audit trail',
        description:
          'Checks every record hash, link and signed checkpoint, as `agentguard audit verify` does. `ok: false` with `problems` when records were changed, deleted, inserted, reordered or truncated. Reads the whole log: slow for very large logs.',
        security: BEARER,
        querystring: noQuery,
        response: { 200: verifyResponse, ...authedErrors() },
      },
    },
    // What `agentguard audit verify` reads (the key and the checkpoint kept next to it), so both give the same answer.
    // No key for the signed checkpoints, an unreadable witness: the log cannot be verified, and the admin is told why
    // (its error, with the registry's status: a 500, since the sidecar's data folder, not the request, is at fault).
    async (): Promise<VerifyResult> => verifyDataFolderAudit(services.recorder.store, services.dataDir),
  );
}
