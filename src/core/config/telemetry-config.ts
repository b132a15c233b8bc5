import { AgentGuardError } from '../errors.js';

/**
 * The `telemetry` section of agentguard.config.json. Trace export is on only when `otlp` is present, or an endpoint
 * is given (the sidecar's `--otlp-endpoint`, AGENTGUARD_OTLP_ENDPOINT): the OTEL_EXPORTER_OTLP_* variables alone never
 * turn it on, they only fill in what the section leaves out. See docs/observability.md.
 */
export interface TelemetryConfig {
  /** Export a span per decision over OTLP/HTTP (JSON). `{}` exports to OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT, else http://localhost:4318. */
  otlp?: OtlpConfig;
  /** Put the action's input, the transformed input, reason messages and outcome errors in spans (secrets masked). Default false. */
  payloads?: boolean;
}

export interface OtlpConfig {
  /** The collector's base URL (`/v1/traces` is added unless the path already ends with it); default from the environment. */
  endpoint?: string;
  /** Headers sent with every export (an API key…); better given as OTEL_EXPORTER_OTLP_HEADERS than written in a committed file. Never logged. */
  headers?: Record<string, string>;
  /** service.name of the spans (default OTEL_SERVICE_NAME, else agentguard-sidecar or agentguard). */
  serviceName?: string;
}

const TOP = ['otlp', 'payloads'];
const OTLP = ['endpoint', 'headers', 'serviceName'];
// RFC 9110 token characters: what an HTTP header name may hold.
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,128}$/;

function invalid(message: string, fix: string): AgentGuardError {
  return new AgentGuardError('CONFIG_INVALID', message, { actions: [fix] });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Checks an OTLP endpoint: an http(s) URL without a user name or password (those go in headers). */
export function checkOtlpEndpoint(value: unknown, where: string): string {
  let url: URL | undefined;
  try {
    url = typeof value === 'string' ? new URL(value) : undefined;
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw invalid(`${where} must be an http:// or https:// URL`, 'Write for example "endpoint": "http://localhost:4318" (the OTLP/HTTP port of a collector).');
  }
  if (url.username !== '' || url.password !== '') {
    throw invalid(`${where} must not hold a user name or password`, 'Send credentials as a header instead: OTEL_EXPORTER_OTLP_HEADERS="authorization=Bearer …".');
  }
  return value as string;
}

/** Checks the `telemetry` section (`where` names it in messages); undefined stays undefined. Header values are never quoted. */
export function checkTelemetryConfig(value: unknown, where: string): TelemetryConfig | undefined {
  if (value === undefined) return undefined;
  if (!isObject(value)) throw invalid(`${where} must be an object`, 'Write "telemetry": { "otlp": { "endpoint": "http://localhost:4318" } }, or remove it.');
  const out: TelemetryConfig = {};
  for (const [key, v] of Object.entries(value)) {
    if (!TOP.includes(key)) throw invalid(`${where} has an unknown field "${key}"`, `Allowed fields: ${TOP.join(', ')}.`);
    if (key === 'payloads') {
      if (typeof v !== 'boolean') throw invalid(`${where}.payloads must be true or false`, 'Write "payloads": true to put inputs and reason messages in spans, or remove it.');
      out.payloads = v;
    } else {
      out.otlp = checkOtlp(v, `${where}.otlp`);
    }
  }
  return out;
}

function checkOtlp(value: unknown, where: string): OtlpConfig {
  if (!isObject(value)) throw invalid(`${where} must be an object`, 'Write "otlp": {} to export to OTEL_EXPORTER_OTLP_ENDPOINT, or "otlp": { "endpoint": "http://localhost:4318" }.');
  const out: OtlpConfig = {};
  for (const [key, v] of Object.entries(value)) {
    if (!OTLP.includes(key)) throw invalid(`${where} has an unknown field "${key}"`, `Allowed fields: ${OTLP.join(', ')}.`);
    if (key === 'endpoint') out.endpoint = checkOtlpEndpoint(v, `${where}.endpoint`);
    else if (key === 'serviceName') {
      if (typeof v !== 'string' || v.trim() === '' || v.length > 256) throw invalid(`${where}.serviceName must be a non-empty string`, 'Write for example "serviceName": "agentguard-sidecar".');
      out.serviceName = v;
    } else {
      if (!isObject(v)) throw invalid(`${where}.headers must be an object of header names to strings`, 'Write for example "headers": { "x-api-key": "…" }, or set OTEL_EXPORTER_OTLP_HEADERS.');
      const headers: Record<string, string> = {};
      for (const [name, header] of Object.entries(v)) {
        if (!HEADER_NAME.test(name)) throw invalid(`${where}.headers has an invalid header name`, 'Header names are letters, digits and - _ . (no spaces or colons).');
        // The value is not quoted: it is usually a secret.
        if (typeof header !== 'string' || /[\r\n\0]/.test(header)) throw invalid(`${where}.headers.${name} must be a string on one line`, 'Write the header value as a plain string.');
        headers[name] = header;
      }
      out.headers = headers;
    }
  }
  return out;
}

/** Whether trace export is on: the config's `otlp` section, or an endpoint given on the command line. */
export function telemetryEnabled(config: TelemetryConfig | undefined, endpoint?: string): boolean {
  return config?.otlp !== undefined || endpoint !== undefined;
}
