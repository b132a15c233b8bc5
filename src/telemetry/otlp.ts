import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor, type ReadableSpan, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { packageVersion } from '../core/contracts/sdk-versions.js';
import type { TelemetryConfig } from '../core/config/telemetry-config.js';
import { COMPONENT } from './attributes.js';
import { spanTracer, type SpanTracer } from './span-tracer.js';

/** Spans waiting for export at most; past it new spans are dropped (counted), never buffered without bound. */
export const MAX_QUEUED_SPANS = 2048;
/** How long a shutdown waits for the last spans to go out before giving up on them. */
const SHUTDOWN_WAIT_MS = 3_000;
/** At most one export-failure message per this many milliseconds. */
const REPORT_EVERY_MS = 60_000;

export interface OtlpTelemetryOptions {
  /** The `telemetry` section of the project config; its `otlp` (or `endpoint`) turns export on. */
  config: TelemetryConfig;
  /** The sidecar's --otlp-endpoint: replaces `config.otlp.endpoint`. */
  endpoint?: string;
  /** service.name when neither the config nor OTEL_SERVICE_NAME gives one. */
  defaultServiceName: string;
  /** `server` in the sidecar, `internal` in an agent's own process. */
  kind: 'server' | 'internal';
  /** Told (at most once a minute) when spans could not be exported; the message names no header and no payload. */
  onExportError?: (message: string) => void;
  /** Environment variables (default process.env), for tests. */
  env?: NodeJS.ProcessEnv;
}

/** Running trace export: the tracer the engine reports to, and its shutdown. */
export interface OtlpTelemetry {
  /** What the engine reports to; `dropped` counts decisions whose spans were dropped because too many were waiting. */
  tracer: SpanTracer;
  /** Where spans go, without query string or credentials (safe to log). */
  endpoint: string;
  serviceName: string;
  /** Exports what is queued now. Never rejects. */
  flush(): Promise<void>;
  /** Exports what is queued (waiting at most a few seconds for a collector that does not answer) and stops. Never rejects. */
  shutdown(): Promise<void>;
}

/**
 * The OTLP/HTTP traces URL: a configured endpoint is a base URL like OTEL_EXPORTER_OTLP_ENDPOINT (`/v1/traces` is
 * added unless the path already ends with it); without one, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as is, then
 * OTEL_EXPORTER_OTLP_ENDPOINT + `/v1/traces`, then the OTLP default http://localhost:4318/v1/traces.
 */
export function tracesUrl(configured: string | undefined, env: NodeJS.ProcessEnv): string {
  const base = (raw: string) => {
    const url = new URL(raw);
    if (!/\/v1\/traces\/?$/.test(url.pathname)) url.pathname = `${url.pathname.replace(/\/+$/, '')}/v1/traces`;
    return url.toString();
  };
  if (configured !== undefined) return base(configured);
  const traces = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim();
  if (traces) return traces;
  const all = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  return all ? base(all) : 'http://localhost:4318/v1/traces';
}

/** A URL as it may be logged: no user, password, query or fragment. */
function loggable(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
  } catch {
    return '(invalid URL)';
  }
}

/** Counts failed exports and reports them, rate-limited; the wrapped exporter's results pass through unchanged. */
class ReportingExporter implements SpanExporter {
  private failedSpans = 0;
  private lastReport = 0;

  constructor(
    private readonly inner: SpanExporter,
    private readonly report: ((message: string) => void) | undefined,
    private readonly endpoint: string,
  ) {}

  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    this.inner.export(spans, (result) => {
      if (result.code !== ExportResultCode.SUCCESS) this.failed(spans.length, result.error);
      done(result);
    });
  }

  private failed(count: number, error: Error | undefined): void {
    this.failedSpans += count;
    const now = Date.now();
    if (this.report === undefined || now - this.lastReport < REPORT_EVERY_MS) return;
    this.lastReport = now;
    // The reason is the error's code or first line, cut short: never the request's headers.
    const code = (error as { code?: unknown } | undefined)?.code;
    const why = typeof code === 'string' || typeof code === 'number' ? String(code) : (error?.message.split('\n')[0]?.slice(0, 120) ?? 'unknown error');
    this.report(`could not export spans to ${this.endpoint} (${why}); ${this.failedSpans} span(s) lost so far. Decisions are not affected.`);
  }

  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }

  forceFlush(): Promise<void> {
    return this.inner.forceFlush?.() ?? Promise.resolve();
  }
}

function bounded(work: Promise<void>, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    timer.unref();
    work.then(
      () => {
        clearTimeout(timer);
        resolve();
      },
      () => {
        clearTimeout(timer);
        resolve();
      },
    );
  });
}

/**
 * Starts exporting a span per decision over OTLP/HTTP (JSON): a tracer provider of its own (the process's global
 * one is left alone), a batch processor with a bounded queue, and an exporter whose failures are reported and never
 * reach a decision. Header values (config `otlp.headers`, OTEL_EXPORTER_OTLP_HEADERS) go to the collector only.
 */
export async function startOtlpTelemetry(options: OtlpTelemetryOptions): Promise<OtlpTelemetry> {
  const env = options.env ?? process.env;
  const otlp = options.config.otlp ?? {};
  const url = tracesUrl(options.endpoint ?? otlp.endpoint, env);
  const endpoint = loggable(url);
  const serviceName = otlp.serviceName ?? (env.OTEL_SERVICE_NAME?.trim() || options.defaultServiceName);
  // OTEL_RESOURCE_ATTRIBUTES (deployment.environment, k8s names…) are kept; service.name is ours to set.
  const detected = detectResources({ detectors: [envDetector] });
  await detected.waitForAsyncAttributes?.();
  const resource = detected.merge(resourceFromAttributes({ 'service.name': serviceName, 'service.version': packageVersion() }));
  // Headers: the exporter reads OTEL_EXPORTER_OTLP_(TRACES_)HEADERS itself; configured ones are added to those.
  const exporter = new OTLPTraceExporter({ url, ...(otlp.headers ? { headers: otlp.headers } : {}), timeoutMillis: 10_000 });
  const processor = new BatchSpanProcessor(new ReportingExporter(exporter, options.onExportError, endpoint), {
    maxQueueSize: MAX_QUEUED_SPANS,
    maxExportBatchSize: 512,
    scheduledDelayMillis: 1_000,
    exportTimeoutMillis: 10_000,
  });
  const provider = new BasicTracerProvider({ resource, spanProcessors: [processor] });
  const tracer = spanTracer(provider.getTracer(COMPONENT, packageVersion()), { payloads: options.config.payloads === true, kind: options.kind });
  let stopped: Promise<void> | undefined;
  return {
    tracer,
    endpoint,
    serviceName,
    flush: () => {
      tracer.drain();
      return bounded(provider.forceFlush(), SHUTDOWN_WAIT_MS);
    },
    shutdown: () => {
      tracer.drain();
      return (stopped ??= bounded(provider.shutdown(), SHUTDOWN_WAIT_MS));
    },
  };
}
