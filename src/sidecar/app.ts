import { openEngine } from '../core/engine/open-engine.js';
import { builtinSpecsOf } from '../core/guardrails/builtin-spec.js';
import { GuardrailPool } from '../core/guardrails/workers/pool.js';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { AuditRecorder } from '../core/audit/recorder.js';
import type { Policy } from '../core/policy/policy.js';
import type { SessionsConfig } from '../core/sessions/config.js';
import { auditSinkFor } from './plugins/audit-health.js';
import { registerAuth, type Authenticate } from './plugins/auth.js';
import { registerHostCheck } from './plugins/host-check.js';
import { DEFAULT_ACCESS_LOG_RATE, registerAccessLog } from './log/access-log.js';
import { DecisionCache, DEFAULT_DECISION_CACHE_SIZE } from './plugins/decision-cache.js';
import { registerErrorHandling } from './plugins/errors.js';
import { MAX_JSON_DEPTH, registerJsonBody } from './plugins/json-body.js';
import { SidecarMetrics } from './plugins/metrics.js';
import { registerOpenApi } from './plugins/openapi.js';
import { registerSdkVersionCheck } from './plugins/sdk-version.js';
import { PolicyState, type ReloadResult } from './plugins/policy-state.js';
import type { AuditHealth, SidecarServices } from './plugins/services.js';
import { auditRoutes } from './routes/audit.js';
import { decideRoute, previewRoute } from './routes/decide.js';
import { approvalRoutes } from './routes/approvals.js';
import { approvalCallbackRoutes } from './routes/approval-callbacks.js';
import { runApprovalTimers, sidecarDeliverer } from './plugins/approval-timers.js';
import type { NotifyChannel } from '../notify/types.js';
import { postAlert } from '../alerts/webhook.js';
import { healthRoutes } from './routes/health.js';
import { outcomeRoute } from './routes/outcome.js';
import { policyRoutes, reloadPolicy } from './routes/policy.js';
import { sharedSchemas } from './schemas.js';
import { tracingHooks } from './plugins/tracing.js';
import type { DecisionTracer } from '../core/telemetry/decision-trace.js';

export type { Authenticate, AuthenticatedToken, AuthResult, TokenScope } from './plugins/auth.js';
export type { PolicyInfo, ReloadResult, ReloadStatus } from './plugins/policy-state.js';
export type { ErrorBody } from './plugins/errors.js';

/** Largest request body accepted by default (1 MiB). */
export const DEFAULT_BODY_LIMIT = 1024 * 1024;

/** Request and log fields that may hold secrets; pino replaces them before a line is written. */
export const REDACTED_LOG_PATHS = [
  'req.headers.authorization',
  'req.headers["proxy-authorization"]',
  'req.headers.cookie',
  'headers.authorization',
  'authorization',
];

export interface SidecarAppOptions {
  /** The policy in force at start. */
  policy: Policy;
  /** Where decisions and outcomes are recorded. The app does not close it: close it after `app.close()` (final checkpoint). */
  recorder: AuditRecorder;
  /** Checks the `Authorization` header of `/v1` requests (see Authenticate). */
  authenticate: Authenticate;
  /** The agentguard data folder: its public key verifies the audit trail (`/v1/audit/verify`), and `/readyz` checks it is writable. */
  dataDir: string;
  /** The file `policy` came from: `POST /v1/policy/reload` and `app.sidecar.reloadPolicy()` read it again. Without it, reloads answer 409. */
  policyPath?: string;
  /** Where reloads load the policy from instead of a file: the fleet's store (`sidecar start --policy-from-store`). */
  policyLoader?: () => Promise<Policy>;
  /** false (default): no logs; true: pino at info; or pino options. The Authorization header is always redacted. */
  logger?: boolean | Record<string, unknown>;
  /** Largest request body in bytes (default 1 MiB); larger bodies get a 413. */
  bodyLimit?: number;
  /** Deepest JSON nesting accepted in a body (default 64). */
  maxJsonDepth?: number;
  /** Decisions remembered for outcome reports (default 10 000). */
  decisionCacheSize?: number;
  /** The `cost` section of the project config (prices and budgets) and where it came from; the ledger is kept either way. */
  cost?: { config: unknown; where: string };
  /** The `sessions` section of the project config: which results taint a session (see core/sessions). */
  sessions?: SessionsConfig;
  /** Where approval notifications go (checked channels, see notifyChannels); none by default. */
  notify?: readonly NotifyChannel[];
  /** How often pending approvals are expired and escalated, and queued notifications sent (default 1 000 ms). */
  approvalTickMs?: number;
  /** Guardrail work per decision and the worker threads for large texts; see SidecarGuardrailOptions. */
  guardrails?: SidecarGuardrailOptions;
  /**
   * The only `Host` names answered (with the port the request came in on, or none); others get a 421. The daemon sets
   * LOOPBACK_HOST_NAMES when it listens on loopback, against DNS rebinding. Unset: any Host (a sidecar exposed with
   * --allow-remote, tests).
   */
  allowedHosts?: readonly string[];
  /** Request log lines a second, and in a burst (default 20 and 200); lines beyond are counted, not written. */
  accessLogRate?: { perSecond: number; burst: number };
  /** A key that, sent as `x-agentguard-status-key`, reads /readyz in full like an admin token (the daemon puts it in its pid file for `sidecar status`). */
  statusKey?: string;
  /**
   * Receives every decision's stage timings (src/telemetry's OTLP export); the request's `traceparent` parents its
   * span. Without it (the default) no request or decision is timed.
   */
  tracer?: DecisionTracer;
}

/** The `guardrails` section of the project config, as the sidecar uses it. */
export interface SidecarGuardrailOptions {
  /** Milliseconds of guardrail work per decision (default 250); past it the decision is deny `guardrail_timeout`. */
  budgetMs?: number;
  /** Worker threads for decisions with large texts (default: one per core beyond the first, 2 to 4). */
  workers?: number;
  /** Decisions with at most this many characters of guardrail text run on the event loop (default 32 KiB). */
  inlineMaxChars?: number;
  /** Build the policy's guardrails in every worker in the background once the app is built (the daemon does). */
  warm?: boolean;
}

/** What the daemon (SIGHUP, shutdown, status) needs from a built app. */
export interface SidecarHandle {
  /** Reloads the policy file like `POST /v1/policy/reload`: counted, logged, and the previous policy kept when the new one is invalid. */
  reloadPolicy(): Promise<ReloadResult>;
  /** The shared services of the routes (policy state, metrics, recorder…). */
  services: SidecarServices;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The sidecar's own handle, for the process that runs it. */
    sidecar: SidecarHandle;
  }
}

function loggerOptions(logger: SidecarAppOptions['logger']): false | Record<string, unknown> {
  if (!logger) return false;
  const base = logger === true ? {} : logger;
  const given = base.redact as string[] | { paths?: string[] } | undefined;
  const extra = Array.isArray(given) ? given : (given?.paths ?? []);
  return { ...base, redact: { paths: [...REDACTED_LOG_PATHS, ...extra], censor: '[redacted]' } };
}

/** Counts requests in flight; each request is counted down once, whether it completed or the client went away. */
export function registerInFlight(app: FastifyInstance, metrics: SidecarMetrics): void {
  // The response's 'close' comes once per request, answered or aborted, so one listener (shared by all requests) counts
  // it down: no onResponse and onRequestAbort hooks (fastify adds a closure and a listener per request for the latter)
  // and no flag on the request.
  const countDown = (): void => {
    metrics.inFlight.dec();
  };
  // A callback hook, not an async one: no promise per request.
  app.addHook('onRequest', (request, reply, next) => {
    metrics.inFlight.inc();
    reply.raw.on('close', countDown);
    next();
  });
}

/**
 * Builds the sidecar's HTTP app (fastify) without listening, so tests call it with `app.inject()` and the daemon calls
 * `app.listen()`. Every decision goes through the one engine (openEngine) and its pipeline.
 *
 * @example
 * const recorder = await AuditRecorder.open({ dataDir });
 * const app = await buildSidecarApp({ policy: await Policy.fromFile(path), policyPath: path, recorder, dataDir, authenticate });
 * await app.listen({ host: '127.0.0.1', port: 7777 });
 * process.on('SIGHUP', () => void app.sidecar.reloadPolicy());
 * // on SIGTERM: await app.close(); await recorder.close();
 */
export async function buildSidecarApp(options: SidecarAppOptions): Promise<FastifyInstance> {
  // A policy given in memory (not through Policy.fromFile) is checked here: no catastrophic regex reaches the engine.
  await options.policy.assertRegexesSafe();
  const bodyLimit = options.bodyLimit ?? DEFAULT_BODY_LIMIT;
  const app = Fastify({
    logger: loggerOptions(options.logger),
    bodyLimit,
    // Reject what the schemas do not allow instead of quietly dropping or converting it.
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, useDefaults: false, allErrors: false } },
    return503OnClosing: true,
    // Two synchronous log lines per request cost more than the decision itself; see registerAccessLog.
    logController: new LogController({ disableRequestLogging: true }),
  }) as unknown as FastifyInstance;

  const metrics = new SidecarMetrics();
  const deliverer = sidecarDeliverer(app, options.recorder.store.deliveries, options.notify ?? [], metrics);
  const auditHealth: AuditHealth = { lastFailure: null };
  const policy = new PolicyState(options.policy, options.policyPath, undefined, options.policyLoader);
  const guardrails = {
    budgetMs: options.guardrails?.budgetMs,
    pool: new GuardrailPool({ size: options.guardrails?.workers, inlineMaxChars: options.guardrails?.inlineMaxChars }),
  };
  // The one engine every front door decides with, over the daemon's recorder (the daemon closes it after the app),
  // reading the policy in force at each decision so reloads take effect at once.
  const engine = await openEngine({
    policy: () => policy.current,
    record: true,
    dataDir: options.dataDir,
    recorder: options.recorder,
    auditSink: (recorder) => auditSinkFor({ recorder, auditHealth }),
    cost: { config: options.cost?.config, where: options.cost?.where ?? 'cost' },
    onAlert: (alert) => void postAlert(alert),
    notifications: { subscriptions: options.notify ?? [], sender: () => deliverer },
    guardrails,
    ...(options.sessions ? { sessions: options.sessions } : {}),
    ...(options.tracer ? { tracer: options.tracer } : {}),
  });
  const services: SidecarServices = {
    engine,
    policy,
    recorder: options.recorder,
    metrics,
    decisions: new DecisionCache(options.decisionCacheSize ?? DEFAULT_DECISION_CACHE_SIZE),
    auditHealth,
    dataDir: options.dataDir,
    approvals: engine.approvals!,
    notify: options.notify ?? [],
    guardrails,
  };
  app.addHook('onClose', async () => engine.close());
  app.addHook('onClose', async () => services.guardrails.pool?.close());
  // In the background: the daemon answers /healthz at once; a large decision that comes first waits for the models.
  if (options.guardrails?.warm) void services.guardrails.pool!.warm(builtinSpecsOf(options.policy));
  app.decorate('sidecar', { services, reloadPolicy: () => reloadPolicy(services, app.log as FastifyBaseLogger) });

  registerErrorHandling(app, { bodyLimit });
  registerJsonBody(app, { bodyLimit, maxDepth: options.maxJsonDepth ?? MAX_JSON_DEPTH });
  if (options.allowedHosts) registerHostCheck(app, options.allowedHosts);
  for (const schema of sharedSchemas) app.addSchema(schema);
  registerInFlight(app, metrics);
  registerAccessLog(app, options.accessLogRate ?? DEFAULT_ACCESS_LOG_RATE);
  // Before authentication: an SDK the sidecar cannot serve is told to upgrade, whatever its token.
  registerSdkVersionCheck(app);
  const tracing = options.tracer ? tracingHooks(app) : undefined;
  tracing?.before();
  registerAuth(app, { authenticate: options.authenticate, metrics });
  tracing?.after();
  await registerOpenApi(app);

  decideRoute(app, services);
  previewRoute(app, services);
  approvalRoutes(app, services);
  approvalCallbackRoutes(app, services);
  outcomeRoute(app, services);
  auditRoutes(app, services);
  policyRoutes(app, services);
  healthRoutes(app, services, options.statusKey);
  runApprovalTimers(app, services, deliverer, options.approvalTickMs ?? 1_000);

  await app.ready();
  return app;
}
