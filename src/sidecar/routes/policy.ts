import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import { AgentGuardError } from '../../core/errors.js';
import type { PolicyInfo, ReloadResult } from '../plugins/policy-state.js';
import type { SidecarServices } from '../plugins/services.js';
import { authedErrors, BEARER, emptyBody, noQuery, policyInfoSchema, reloadResponse } from '../schemas.js';

/**
 * Reloads the policy file, counts the result and logs it: the one path for `POST /v1/policy/reload` and for SIGHUP.
 * An invalid new policy is refused and the previous one stays in force.
 */
export async function reloadPolicy(services: SidecarServices, log: FastifyBaseLogger): Promise<ReloadResult> {
  const result = await services.policy.reload();
  services.metrics.reloaded(result.ok);
  if (result.ok) {
    log.info({ policy: result.policy.name, hash: result.policy.hash, changed: result.changed }, 'policy reloaded');
  } else {
    const kept = services.policy.current;
    log.warn({ code: result.code, problems: result.problems, kept: { name: kept.name, hash: kept.hash } }, `policy reload refused, the previous policy stays in force: ${result.message}`);
  }
  return result;
}

/** `GET /v1/policy` and `POST /v1/policy/reload`, both admin. */
export function policyRoutes(app: FastifyInstance, services: SidecarServices): void {
  app.get(
    '/v1/policy',
    {
      config: { auth: 'admin' },
      schema: {
        tags: ['policy'],
        summary: 'The policy in force',
        description: 'Its name, hash, number of rules, source file, when it was loaded and how the last reload went.',
        security: BEARER,
        querystring: noQuery,
        response: { 200: policyInfoSchema, ...authedErrors() },
      },
    },
    async (): Promise<PolicyInfo> => services.policy.info(),
  );

  app.post<{ Body: Record<string, never> | undefined }>(
    '/v1/policy/reload',
    {
      config: { auth: 'admin' },
      // No body at all is the usual call; it is checked as an empty object, so any field sent is still refused.
      preValidation: async (request) => {
        if (request.body === undefined) request.body = {};
      },
      schema: {
        tags: ['policy'],
        summary: 'Reload the policy file',
        description:
          'Reads the policy file again and swaps it in atomically. An invalid policy is refused with 422 and its problems; the previous policy stays in force. Takes no body (or an empty JSON object).',
        security: BEARER,
        body: emptyBody,
        response: { 200: reloadResponse, ...authedErrors(400, 409, 413, 415, 422) },
      },
    },
    async (request) => {
      const result = await reloadPolicy(services, request.log);
      if (result.ok) return { changed: result.changed, policy: result.policy };
      if (result.code === 'RELOAD_UNAVAILABLE') throw new AgentGuardError(result.code, result.message, { actions: result.actions });
      // Whatever made the file unusable (its syntax, its rules, a file that cannot be read, a guardrail option), this
      // route's answer is that the new policy was refused: 422, as documented above, with the problems found.
      throw new AgentGuardError(result.code, result.message, { actions: result.actions, details: { problems: result.problems }, status: 422 });
    },
  );
}
