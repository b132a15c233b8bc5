import { createHash, timingSafeEqual } from 'node:crypto';
import { constants, existsSync } from 'node:fs';
import { access } from 'node:fs/promises';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { SidecarServices } from '../plugins/services.js';
import { errorResponses, healthResponse, readyResponse } from '../schemas.js';

interface Check {
  name: string;
  ok: boolean;
  message?: string;
}

function failed(error: unknown): string {
  const e = error as NodeJS.ErrnoException;
  return e?.code && !e.message?.includes(e.code) ? `${e.message} (${e.code})` : String(e?.message ?? error);
}

/**
 * The checks of `/readyz`. The store check is cheap, so probes can call it often: the recorder is open, the log's head
 * can be read, and the data folder and database files are writable by this process. A decision whose record could not
 * be written fails the audit check until a later one is written.
 */
async function readinessChecks(services: SidecarServices): Promise<Check[]> {
  const policy = services.policy.current;
  const checks: Check[] = [{ name: 'policy', ok: true, message: `${policy.name} (${policy.hash})` }];
  try {
    await services.recorder.append([]);
    // A shared store (PostgreSQL) answers a ping; 503 until it does again.
    await services.recorder.store.ping?.();
    await services.recorder.store.audit.head();
    const location = services.recorder.store.location;
    const files = [services.dataDir, location, `${location}-wal`].filter((f) => existsSync(f));
    for (const file of files) await access(file, constants.W_OK);
    checks.push({ name: 'store', ok: true, message: location });
    // A write that failed only because the shared store could not be reached says nothing once it answers again: ready
    // again now, not at the next successful decision (a load balancer sends none to an instance that is not ready).
    if (services.auditHealth.lastFailure?.code === 'STORE_UNAVAILABLE') services.auditHealth.lastFailure = null;
  } catch (error) {
    checks.push({ name: 'store', ok: false, message: `the audit store is not writable: ${failed(error)}` });
  }
  const failure = services.auditHealth.lastFailure;
  checks.push(failure ? { name: 'audit', ok: false, message: `the last decision at ${failure.at} could not be recorded: ${failure.message}` } : { name: 'audit', ok: true });
  return checks;
}

/** True when `sent` is the status key (compared in constant time); false when either is missing. */
function sameKey(sent: string | string[] | undefined, key: string | undefined): boolean {
  if (typeof sent !== 'string' || key === undefined) return false;
  const [a, b] = [createHash('sha256').update(sent).digest(), createHash('sha256').update(key).digest()];
  return timingSafeEqual(a, b);
}

/** `/healthz`, `/readyz` and `/metrics`, without authentication so probes and scrapers need no token. */
export function healthRoutes(app: FastifyInstance, services: SidecarServices, statusKey?: string): void {
  app.get(
    '/healthz',
    {
      config: { auth: 'none' },
      schema: { tags: ['health'], summary: 'Liveness', description: 'Answers while the process serves HTTP.', response: { 200: healthResponse } },
    },
    async () => ({ status: 'ok' as const }),
  );

  app.get(
    '/readyz',
    {
      config: { auth: 'optional' },
      schema: {
        tags: ['health'],
        summary: 'Readiness',
        description:
          'Ready when a policy is loaded and the audit store is writable; otherwise 503 with the failing checks. Without an admin bearer token (or the status key of the pid file, header x-agentguard-status-key) the answer holds the status and the name and result of each check only; with one, also what each check found (the database path, the policy name and hash) and `policy.lastReload`, which reports a refused reload (the previous policy is still in force, so that alone does not make the sidecar unready).',
        response: { 200: { ...readyResponse, description: 'Ready.' }, 503: { ...readyResponse, description: 'Not ready: see the failing checks.' }, ...errorResponses() },
      },
    },
    async (request, reply: FastifyReply) => {
      const checks = await readinessChecks(services);
      const ready = checks.every((c) => c.ok);
      const status = ready ? 'ready' : 'not_ready';
      // Anyone on this machine, or a web page that reached the port, may ask: without an admin token the answer says
      // which checks fail but not the database path, the policy or the error text.
      if (request.token?.scope.kind !== 'admin' && !sameKey(request.headers['x-agentguard-status-key'], statusKey)) return reply.code(ready ? 200 : 503).send({ status, checks: checks.map(({ name, ok }) => ({ name, ok })) });
      const policy = services.policy.current;
      const lastReload = services.policy.lastReload;
      return reply.code(ready ? 200 : 503).send({
        status,
        checks,
        policy: lastReload ? { name: policy.name, hash: policy.hash, lastReload } : { name: policy.name, hash: policy.hash },
      });
    },
  );

  app.get(
    '/metrics',
    {
      config: { auth: 'none' },
      schema: {
        tags: ['health'],
        summary: 'Prometheus metrics',
        description:
          'Prometheus text format: agentguard_decisions_total{effect}, agentguard_decision_duration_seconds, agentguard_policy_reloads_total{result}, agentguard_policy_reload_failures_total, agentguard_auth_failures_total{reason}, agentguard_http_requests_in_flight. Open like /healthz: it holds counts only, and the sidecar listens on loopback by default.',
        response: { 200: { description: 'Prometheus text exposition format 0.0.4.', content: { 'text/plain': { schema: { type: 'string' } } } } },
      },
    },
    async (_request, reply: FastifyReply) => {
      const text = await services.metrics.registry.metrics();
      return reply.type(services.metrics.registry.contentType).send(text);
    },
  );
}
