import { checkOtlpEndpoint, telemetryEnabled, type TelemetryConfig } from '../core/config/telemetry-config.js';
import type { OtlpTelemetry, OtlpTelemetryOptions } from './otlp.js';

/**
 * Starts OTLP trace export when the `telemetry` section, an endpoint from the command line or AGENTGUARD_OTLP_ENDPOINT
 * turns it on, and answers undefined otherwise (the OTEL_* variables alone never do). The only way in from the front
 * doors: the OpenTelemetry SDK and exporter load here, on demand, so a process with export off never loads them.
 */
export async function startTelemetry(config: TelemetryConfig | undefined, options: Omit<OtlpTelemetryOptions, 'config'>): Promise<OtlpTelemetry | undefined> {
  const fromEnv = (options.env ?? process.env).AGENTGUARD_OTLP_ENDPOINT?.trim();
  const endpoint = options.endpoint ?? (fromEnv ? checkOtlpEndpoint(fromEnv, 'AGENTGUARD_OTLP_ENDPOINT') : undefined);
  if (!telemetryEnabled(config, endpoint)) return undefined;
  const { startOtlpTelemetry } = await import('./otlp.js');
  return startOtlpTelemetry({ ...options, config: config ?? {}, ...(endpoint !== undefined ? { endpoint } : {}) });
}
