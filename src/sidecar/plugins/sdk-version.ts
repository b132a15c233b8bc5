import type { FastifyInstance } from 'fastify';
import { checkSdk, packageVersion, SDK_HEADER, SDK_SUPPORT_HEADER, SIDECAR_VERSION_HEADER, supportHeader, SUPPORTED_SDKS } from '../../core/contracts/sdk-versions.js';
import { AgentGuardError } from '../../core/errors.js';

/**
 * The sidecar's half of the SDK version handshake (see core/contracts/sdk-versions): every answer names the sidecar's
 * version and the SDK versions it serves; a request from an SDK outside that range is refused before authentication
 * with SDK_TOO_OLD or SDK_TOO_NEW, so the client reads an upgrade message instead of a failure it cannot explain.
 */
export function registerSdkVersionCheck(app: FastifyInstance, options: { version?: string; supported?: typeof SUPPORTED_SDKS } = {}): void {
  const version = options.version ?? packageVersion();
  const supported = options.supported ?? SUPPORTED_SDKS;
  const support = supportHeader(supported);
  // A callback hook, not an async one: no promise per request (fastify passes a thrown error on as the request's).
  app.addHook('onRequest', (request, reply, done) => {
    reply.header(SIDECAR_VERSION_HEADER, version);
    reply.header(SDK_SUPPORT_HEADER, support);
    const sent = request.headers[SDK_HEADER];
    const check = checkSdk(Array.isArray(sent) ? sent[0] : sent, version, supported);
    if (!check.ok) throw new AgentGuardError(check.code, check.message, { actions: check.actions });
    done();
  });
}
