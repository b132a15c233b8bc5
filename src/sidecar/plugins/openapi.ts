import { readFileSync } from 'node:fs';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';

/** The package version, for the OpenAPI document (src/ and dist/ sit at the same depth below the package root). */
function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return '0.0.0';
  }
}

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
        description: 'Ask before an agent acts: decisions, outcomes, audit trail and policy of a local agentguard sidecar. `/v1` routes need `Authorization: Bearer <token>` (`agentguard token create`).',
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
