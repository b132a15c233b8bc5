/**
 * Where @opentelemetry/api keeps its global providers (its `Symbol.for('opentelemetry.js.api.<major>')`): present
 * only once an application registered a tracer provider, propagator or context manager.
 */
const OTEL_API_GLOBAL = Symbol.for('opentelemetry.js.api.1');

let api: Promise<typeof import('@opentelemetry/api')> | undefined;

/**
 * The W3C `traceparent`/`tracestate` of the application's active span, for a request to the sidecar, whose decision
 * span then joins the application's trace. An application without OpenTelemetry pays one property lookup: the API
 * module is loaded only when a global OpenTelemetry setup exists. Baggage is not sent.
 */
export function traceHeaders(): Record<string, string> | Promise<Record<string, string>> {
  if ((globalThis as Record<symbol, unknown>)[OTEL_API_GLOBAL] === undefined) return {};
  return (api ??= import('@opentelemetry/api')).then(({ context, propagation }) => {
    const carrier: Record<string, string> = {};
    propagation.inject(context.active(), carrier);
    const headers: Record<string, string> = {};
    if (typeof carrier.traceparent === 'string') headers.traceparent = carrier.traceparent;
    if (typeof carrier.tracestate === 'string') headers.tracestate = carrier.tracestate;
    return headers;
  });
}
