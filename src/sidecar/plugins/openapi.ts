import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import { packageVersion } from '../../core/contracts/sdk-versions.js';

/**
 * OpenAPI generated from the route schemas (`GET /openapi.json`) and interactive documentation of it (`GET /docs`).
 * Registered before the routes so it sees every one. Shared schemas keep their short `$id` as component names.
 */
export async function registerOpenApi(app: FastifyInstance): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'agentguard sidecar',
        description: 'Ask before an agent acts: decisions, outcomes, audit trail and policy of a local agentguard sidecar. `/v1` routes need `Authorization: Bearer <token>` (`agentguard token create`). Every answer names the sidecar\'s version (`x-agentguard-sidecar`) and the SDK versions it serves (`x-agentguard-sdk-support`); an SDK that names itself in `x-agentguard-sdk` (`agentguard-python/0.1.0`) outside that range is refused with 400 SDK_TOO_OLD or SDK_TOO_NEW.',
        version: packageVersion(),
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      tags: [
        { name: 'decisions', description: 'Decide actions and report their outcomes' },
        { name: 'audit', description: 'Read and verify the tamper-evident audit trail' },
        { name: 'policy', description: 'The policy in force (admin)' },
        { name: 'health', description: 'Probes and metrics (no token)' },
      ],
    },
    refResolver: {
      buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`),
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { config: { auth: 'none' }, schema: { hide: true } }, async () => app.swagger());
}
