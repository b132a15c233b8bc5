import type { TracerProvider } from '@opentelemetry/api';
import { checkTelemetryConfig, type TelemetryConfig } from '../core/config/telemetry-config.js';
import { packageVersion } from '../core/contracts/sdk-versions.js';
import { AgentGuardError } from '../core/errors.js';
import type { DecisionTracer } from '../core/telemetry/decision-trace.js';
import { isPlainObject } from '../core/plain-object.js';

/**
 * Trace export of local mode: the `telemetry` section of agentguard.config.json (`{ otlp: { endpoint, headers,
 * serviceName }, payloads }`: its own OTLP/HTTP exporter), or `{ tracerProvider }`: the spans go to a provider the
 * application already set up (its exporter, sampler and resource), and nothing else is started.
 */
export type GuardTelemetry = TelemetryConfig | { tracerProvider: TracerProvider; payloads?: boolean };

/** Trace export running for one guard. */
export interface RunningTelemetry {
  tracer: DecisionTracer;
  flush(): Promise<void>;
  shutdown(): Promise<void>;
}

function hasProvider(value: GuardTelemetry): value is { tracerProvider: TracerProvider; payloads?: boolean } {
  return 'tracerProvider' in value;
}

/** Checks the `telemetry` option when the guard is made, so a typo fails at once rather than at the first decision. */
export function checkGuardTelemetry(value: unknown): GuardTelemetry | undefined {
  if (value === undefined) return undefined;
  if (isPlainObject(value) && 'tracerProvider' in value) {
    const provider = value.tracerProvider as { getTracer?: unknown } | null;
    if (typeof provider?.getTracer !== 'function') throw new AgentGuardError('GUARD_OPTIONS', '`telemetry.tracerProvider` must be an OpenTelemetry TracerProvider (with getTracer)');
    if (value.payloads !== undefined && typeof value.payloads !== 'boolean') throw new AgentGuardError('GUARD_OPTIONS', '`telemetry.payloads` must be true or false');
    for (const key of Object.keys(value)) {
      if (key !== 'tracerProvider' && key !== 'payloads') throw new AgentGuardError('GUARD_OPTIONS', `\`telemetry\` with a tracerProvider takes only \`payloads\` besides it, not \`${key}\``);
    }
    return value as GuardTelemetry;
  }
  try {
    return checkTelemetryConfig(value, 'AgentGuard option telemetry');
  } catch (error) {
    throw new AgentGuardError('GUARD_OPTIONS', (error as Error).message, { cause: error });
  }
}

/**
 * Starts trace export when it is on (the option, else the project's `telemetry` section, or AGENTGUARD_OTLP_ENDPOINT);
 * the OpenTelemetry modules load only then. Export failures become one process warning a minute and never reach a decision.
 */
export async function startGuardTelemetry(given: GuardTelemetry | undefined, project: TelemetryConfig | undefined): Promise<RunningTelemetry | undefined> {
  const chosen = given ?? project;
  if (chosen === undefined && !process.env.AGENTGUARD_OTLP_ENDPOINT?.trim()) return undefined;
  if (chosen !== undefined && hasProvider(chosen)) {
    const { spanTracer } = await import('../telemetry/span-tracer.js');
    const tracer = chosen.tracerProvider.getTracer('agentguard', packageVersion());
    // The application's provider is its own to flush and shut down; what is handed to it is the spans built so far.
    const spans = spanTracer(tracer, { payloads: chosen.payloads === true, kind: 'internal' });
    return { tracer: spans, flush: async () => spans.drain(), shutdown: async () => spans.drain() };
  }
  const { startTelemetry } = await import('../telemetry/start.js');
  return startTelemetry(chosen, {
    defaultServiceName: 'agentguard',
    kind: 'internal',
    onExportError: (message) => process.emitWarning(`agentguard: ${message}`, { code: 'AGENTGUARD_TELEMETRY' }),
  });
}
