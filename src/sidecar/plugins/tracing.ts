import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { PerCall } from '../../core/engine/types.js';
import { traceClock, type TraceCall, type TraceParent } from '../../core/telemetry/decision-trace.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set only when trace export is on: the request's trace context, arrival time and authentication stage. */
    traceCall?: TraceCall;
  }
}

// W3C Trace Context: version-traceid-parentid-flags. Anything else is not passed on (the span starts its own trace).
const TRACEPARENT = /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;

function parentOf(request: FastifyRequest): TraceParent | undefined {
  const traceparent = request.headers.traceparent;
  if (typeof traceparent !== 'string' || !TRACEPARENT.test(traceparent.trim())) return undefined;
  const tracestate = request.headers.tracestate;
  return { traceparent: traceparent.trim(), ...(typeof tracestate === 'string' && tracestate.length <= 512 ? { tracestate } : {}) };
}

/**
 * Registers the two hooks around authentication that a traced request needs: `before` (register it just before the
 * auth hook) notes when the request arrived; `after` (just after it) times authentication and reads the request's W3C
 * `traceparent`/`tracestate`. Only called when trace export is on: otherwise no hook runs.
 */
export function tracingHooks(app: FastifyInstance): { before(): void; after(): void } {
  const arrived = new WeakMap<FastifyRequest, number>();
  return {
    before() {
      app.addHook('onRequest', (request, _reply, done) => {
        arrived.set(request, traceClock());
        done();
      });
    },
    after() {
      app.addHook('onRequest', (request, _reply, done) => {
        const start = arrived.get(request);
        if (start === undefined) return done();
        const parent = parentOf(request);
        const kind = request.token?.scope.kind;
        request.traceCall = {
          startedAt: start,
          ...(parent ? { parent } : {}),
          stages: [{ name: 'auth', start, end: traceClock(), ...(kind ? { attributes: { token: kind } } : {}) }],
        };
        done();
      });
    },
  };
}

/** The per-call settings of a decision: the token's agent, and the request's trace when tracing is on. */
export function perCall(request: FastifyRequest, agentId: string | undefined): PerCall {
  return request.traceCall ? { agentId, trace: request.traceCall } : { agentId };
}
