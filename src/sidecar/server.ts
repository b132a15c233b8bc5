import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { AuditRecorder } from '../core/audit/recorder.js';
import type { GuardrailsConfig } from '../core/config/guardrails-config.js';
import type { TelemetryConfig } from '../core/config/telemetry-config.js';
import { AgentGuardError } from '../core/errors.js';
import { Policy } from '../core/policy/policy.js';
import { StorePolicySource } from '../core/store/store-policy.js';
import type { TrustedPolicyKey } from '../core/policy-signing/keys.js';
import type { SessionsConfig } from '../core/sessions/config.js';
import { cachedAuthenticate } from '../core/tokens/cached-authenticate.js';
import { maskTokens } from '../core/tokens/token-format.js';
import { notifyChannels } from '../notify/config.js';
import { buildSidecarApp, type Authenticate } from './app.js';
import { RotatingFile } from './log/rotating-file.js';
import { LOOPBACK_HOST_NAMES } from './plugins/host-check.js';
import { assertNotRunning, isLoopbackHost, logFilePath, pidFilePath, readPidFile, removePidFile, sidecarUrl, type PidFileContent } from './pid-file.js';

/** How the daemon is started. */
export interface SidecarServerOptions {
  dataDir: string;
  /** The policy file; read at start and again on SIGHUP or `POST /v1/policy/reload`. */
  policyPath: string;
  host: string;
  /** 0 picks a free port (the pid file tells which). */
  port: number;
  /** The `cost` section of the project config (prices and budgets), and where it came from, for messages. */
  cost?: unknown;
  costSource?: string;
  /** The `sessions` section of the project config: which results taint a session. */
  sessions?: SessionsConfig;
  /** The `approvals` section of the project config (notification channels), and where it came from, for messages. */
  approvals?: unknown;
  approvalsSource?: string;
  /** The `guardrails` section of the project config (checked when it was read): budget per decision, workers. */
  guardrails?: GuardrailsConfig;
  /** sidecar.log rotation: the size at which it rotates and how many old files are kept (defaults 10 MiB and 5). */
  log?: { maxBytes?: number; files?: number };
  /**
   * Load the policy pushed to the fleet's store (`agentguard policy push`) instead of `policyPath`, and switch to every
   * version pushed later as soon as the store announces it.
   */
  policyFromStore?: boolean;
  /**
   * With policyFromStore: use only versions signed by one of these keys and not signed before the version in force
   * (`--trust-policy-key`). At start none acceptable stops the start; later, a refused version leaves the policy in force.
   */
  trustedPolicyKeys?: TrustedPolicyKey[];
  /**
   * OpenTelemetry trace export: the `telemetry` section of the project config and `--otlp-endpoint`. On when either
   * names an OTLP endpoint (see telemetryEnabled); off, no OpenTelemetry module is loaded.
   */
  telemetry?: { config?: TelemetryConfig; endpoint?: string };
}

/** A listening sidecar. */
export interface RunningSidecar {
  app: FastifyInstance;
  recorder: AuditRecorder;
  pid: PidFileContent;
  url: string;
  logFile: string;
  /** Stops accepting, drains in-flight requests, writes the final audit checkpoint and removes the pid file. Idempotent. */
  stop(reason: string): Promise<void>;
}

function writePidFile(dataDir: string, content: PidFileContent): void {
  try {
    writeFileSync(pidFilePath(dataDir), `${JSON.stringify(content)}\n`, { flag: 'wx', mode: 0o600 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    // Another start won the race, or its pid file went stale in between.
    assertNotRunning(dataDir);
    writeFileSync(pidFilePath(dataDir), `${JSON.stringify(content)}\n`, { flag: 'wx', mode: 0o600 });
  }
}

function listenError(error: unknown, host: string, port: number): AgentGuardError {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'EADDRINUSE') {
    return new AgentGuardError('PORT_IN_USE', `port ${port} on ${host} is already in use`, {
      actions: ['Pick another port with --port, or stop whatever listens there (`agentguard sidecar status`, `lsof -i :' + port + '`).'],
      cause: error,
    });
  }
  if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND' || code === 'EACCES') {
    return new AgentGuardError('LISTEN_FAILED', `cannot listen on ${host}:${port} (${code})`, {
      actions: ['Check --host (an address of this machine) and --port (1024-65535 without privileges).'],
      cause: error,
    });
  }
  return new AgentGuardError('LISTEN_FAILED', `cannot listen on ${host}:${port}: ${(error as Error).message}`, { exitCode: 1, cause: error });
}

/**
 * Starts the sidecar daemon: loads the policy, opens the audit recorder, builds the app, listens, writes
 * `<dataDir>/sidecar.pid` and logs JSON lines (pino) to `<dataDir>/sidecar.log`. Throws an AgentGuardError (nothing
 * left open) when the policy is invalid, a sidecar already runs for the folder, or the port is taken.
 */
export async function startSidecarServer(options: SidecarServerOptions): Promise<RunningSidecar> {
  const { dataDir, policyPath, host, port } = options;
  assertNotRunning(dataDir);
  const policy = options.policyFromStore ? undefined : await Policy.fromFile(policyPath);
  // Checked before anything opens: a channel whose secret is missing stops the start, it is never skipped quietly.
  const notify = notifyChannels(options.approvals, options.approvalsSource ?? 'agentguard.config.json: approvals');
  // Until the app's logger exists, background errors become process warnings (the log file gets stderr when detached).
  let report = (message: string, error: unknown) => process.emitWarning(`agentguard sidecar: ${message}: ${(error as Error)?.message ?? String(error)}`);
  // On PostgreSQL, audit records are validated, hashed and committed by a writer thread: the event loop serves requests.
  // On SQLite only with AGENTGUARD_AUDIT_THREAD=on: measured on 2 cores it answered fewer decisions/s (0.20 of the HTTP
  // floor against 0.27) with a higher p99, and other SQLite writes (budget reservations, rate limits) that find the
  // thread holding the lock sleep 1 ms or more on the event loop. AGENTGUARD_AUDIT_THREAD=off turns it off for both.
  const threadSetting = process.env.AGENTGUARD_AUDIT_THREAD;
  const auditWriterThread = threadSetting === 'on' ? true : threadSetting === 'off' ? false : 'postgres';
  const recorder = await AuditRecorder.open({ dataDir, auditWriterThread, onError: (error) => report('could not sign an audit checkpoint', error) });
  const storePolicy = new StorePolicySource(recorder.store, options.trustedPolicyKeys ?? []);
  const fromStore = async () => (await storePolicy.load()).policy;
  let initial: Policy;
  try {
    initial = policy ?? (await fromStore());
  } catch (error) {
    await recorder.close().catch(() => undefined);
    throw error;
  }
  const logFile = logFilePath(dataDir);
  let app: FastifyInstance | undefined;
  const statusKey = randomBytes(32).toString('base64url');
  let telemetry: Awaited<ReturnType<typeof startSidecarTelemetry>>;
  try {
    telemetry = await startSidecarTelemetry(options.telemetry, (message) => report('trace export', new Error(message)));
  } catch (error) {
    await recorder.close().catch(() => undefined);
    throw error;
  }
  try {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    const stream = new RotatingFile(logFile, options.log);
    app = await buildSidecarApp({
      ...(telemetry ? { tracer: telemetry.tracer } : {}),
      policy: initial,
      ...(options.policyFromStore ? { policyLoader: fromStore } : { policyPath }),
      recorder,
      dataDir,
      cost: { config: options.cost, where: options.costSource ?? 'agentguard.config.json: cost' },
      ...(options.sessions ? { sessions: options.sessions } : {}),
      notify,
      // Models load in each guardrail worker before the first request, not during it.
      guardrails: { ...options.guardrails, warm: true },
      // Whatever a line quotes (an error about a request, say), an agentguard token in it is never written.
      logger: { level: process.env.AGENTGUARD_LOG_LEVEL ?? 'info', stream: { write: (line: string) => stream.write(maskTokens(line)) } },
      ...(isLoopbackHost(host) ? { allowedHosts: loopbackHostNames(host) } : {}),
      statusKey,
      authenticate: authenticator(recorder, (error) => report('could not record when a token was last used', error)),
    });
    const log = app.log;
    report = (message, error) => log.error({ err: error }, message);
    if (options.policyFromStore && recorder.store.onChange) {
      // A version pushed on any instance is announced; after a reconnect (announcements may have been missed) reload too.
      const sidecar = app.sidecar;
      recorder.store.onChange((change) => {
        if (change.kind === 'policy' || change.kind === 'reconnected') void sidecar.reloadPolicy().catch((error: unknown) => report('could not load the pushed policy', error));
      });
    }
    try {
      await app.listen({ host, port });
    } catch (error) {
      throw listenError(error, host, port);
    }
    const address = app.server.address();
    const actualPort = typeof address === 'object' && address !== null ? address.port : port;
    const pid: PidFileContent = { pid: process.pid, port: actualPort, host, startedAt: new Date().toISOString(), statusKey };
    writePidFile(dataDir, pid);
    const url = sidecarUrl(host, actualPort);
    log.info({ pid: pid.pid, url, policy: { name: initial.name, hash: initial.hash, file: options.policyFromStore ? 'store' : policyPath }, dataDir, store: recorder.store.location }, 'sidecar started');
    // Where spans go and under which service name; header values are never logged.
    if (telemetry) log.info({ otlp: { endpoint: telemetry.endpoint, serviceName: telemetry.serviceName, payloads: options.telemetry?.config?.payloads === true } }, 'trace export on');

    const started = app;
    let stopping: Promise<void> | null = null;
    const stop = (reason: string): Promise<void> => {
      stopping ??= (async () => {
        log.info({ reason }, 'sidecar stopping: draining in-flight requests');
        try {
          try {
            await started.close();
          } finally {
            // The spans of the last decisions go out (a collector that does not answer is given up on after a few seconds).
            await telemetry?.shutdown();
            await recorder.close();
          }
          const checkpoint = recorder.latestCheckpoint;
          if (checkpoint) log.info({ checkpoint: { seq: checkpoint.seq, hash: checkpoint.hash } }, 'sidecar stopped: final audit checkpoint written');
          else log.info('sidecar stopped: no audit records to checkpoint');
          stream.end();
        } finally {
          const current = readPidFile(dataDir);
          if (current !== null && current !== 'invalid' && current.pid === process.pid) removePidFile(dataDir);
        }
      })();
      return stopping;
    };
    return { app: started, recorder, pid, url, logFile, stop };
  } catch (error) {
    await app?.close().catch(() => undefined);
    await telemetry?.shutdown();
    await recorder.close().catch(() => undefined);
    throw error;
  }
}

/** Starts OTLP trace export when it is on; the OpenTelemetry SDK is loaded only then. */
async function startSidecarTelemetry(options: SidecarServerOptions['telemetry'], onExportError: (message: string) => void) {
  const { startTelemetry } = await import('../telemetry/start.js');
  return startTelemetry(options?.config, {
    ...(options?.endpoint !== undefined ? { endpoint: options.endpoint } : {}),
    defaultServiceName: 'agentguard-sidecar',
    kind: 'server',
    onExportError,
  });
}

/** The Host names of a sidecar bound to a loopback address: the usual ones and the address itself (127.0.0.2, ::1). */
function loopbackHostNames(host: string): string[] {
  return [...new Set([...LOOPBACK_HOST_NAMES, host.includes(':') ? `[${host}]` : host])];
}

function authenticator(recorder: AuditRecorder, onTouchError: (error: unknown) => void): Authenticate {
  const store = recorder.store;
  return cachedAuthenticate(store.tokens, { onTouchError, ...(store.onChange ? { changes: (listener) => store.onChange!(listener) } : {}) });
}

/**
 * Wires the process signals of a running sidecar: SIGTERM and SIGINT stop it (drain, final checkpoint, pid file
 * removed) and exit 0, or 1 when the shutdown failed; SIGHUP reloads the policy (an invalid one is refused and logged,
 * the previous one stays in force).
 */
export function handleSignals(running: RunningSidecar): void {
  const log = running.app.log;
  const shutdown = (signal: NodeJS.Signals) => {
    running.stop(signal).then(
      () => process.exit(0),
      (error: unknown) => {
        log.error({ err: error }, 'sidecar shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
  process.on('SIGHUP', () => {
    log.info('SIGHUP: reloading the policy');
    running.app.sidecar.reloadPolicy().catch((error: unknown) => log.error({ err: error }, 'policy reload failed'));
  });
}
