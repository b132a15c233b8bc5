import { telemetryEnabled, type TelemetryConfig } from '../core/config/telemetry-config.js';
import type { OtlpTelemetry, OtlpTelemetryOptions } from './otlp.js';

/**
 * Starts OTLP trace export when the `telemetry` section (or an endpoint from the command line) turns it on, and
 * answers undefined otherwise. The only way in from the front doors: the OpenTelemetry SDK and exporter load here, on
 * demand, so a process with export off never loads them.
 */
export async function startTelemetry(config: TelemetryConfig | undefined, options: Omit<OtlpTelemetryOptions, 'config'>): Promise<OtlpTelemetry | undefined> {
  if (!telemetryEnabled(config, options.endpoint)) return undefined;
  const { startOtlpTelemetry } = await import('./otlp.js');
  return startOtlpTelemetry({ ...options, config: config ?? {} });
}
