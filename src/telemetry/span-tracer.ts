import { context, defaultTextMapGetter, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes, type Context, type Span, type Tracer } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import type { DecisionTracer, StageRecord, TracedDecision, TraceParent } from '../core/telemetry/decision-trace.js';
import { errorKind } from '../core/telemetry/decision-trace.js';
import { actionAttributes, COMPONENT, decisionAttributes, findingAttributes, outcomeAttributes } from './attributes.js';

export interface SpanTracerOptions {
  /** Put inputs, transformed inputs, reason messages and outcome errors in spans (default false). */
  payloads?: boolean;
  /** `server` for the sidecar (each decision answers a request), `internal` in the agent's own process (default). */
  kind?: 'server' | 'internal';
}

const propagator = new W3CTraceContextPropagator();
/** Decisions waiting for their spans to be built at most; past it, the newest are dropped (counted) rather than kept without bound. */
export const MAX_PENDING_DECISIONS = 4096;

/** A DecisionTracer whose spans are built after the decision was answered; `drain` builds what is waiting now. */
export interface SpanTracer extends DecisionTracer {
  drain(): void;
  /** Decisions whose spans were dropped because too many were waiting. */
  readonly dropped: number;
}

/** The context a decision's span hangs under: the request's W3C trace context, else whatever span is active here. */
function parentContext(parent: TraceParent | undefined): Context {
  if (!parent) return context.active();
  const carrier: Record<string, string> = { traceparent: parent.traceparent, ...(parent.tracestate !== undefined ? { tracestate: parent.tracestate } : {}) };
  // An invalid traceparent extracts nothing: the span then starts a trace of its own.
  return propagator.extract(ROOT_CONTEXT, carrier, defaultTextMapGetter);
}

/** Decisions name their span after the GenAI guardrail convention; outcomes are not a guardrail run. */
function spanName(traced: TracedDecision): string {
  return traced.operation === 'outcome' ? `${COMPONENT}.outcome` : `run_guardrail ${COMPONENT}`;
}

/**
 * A stage (and its guardrail runs) as a child span with the stage's own start and end, kept inside its parent's
 * (`within`): times summed in floating-point milliseconds can pass the parent's end by a rounding step.
 */
function stageSpan(tracer: Tracer, stage: StageRecord, parent: Context, target: string, within: { start: number; end: number }): void {
  const start = Math.min(Math.max(stage.start, within.start), within.end);
  const end = Math.min(Math.max(stage.end, start), within.end);
  const guardrail = stage.name === 'guardrail' ? String(stage.attributes?.guardrail ?? '') : undefined;
  const name = guardrail !== undefined ? `run_guardrail ${guardrail}` : `${COMPONENT}.${stage.name}`;
  const attributes: Record<string, string | number | boolean | string[]> = {};
  for (const [key, value] of Object.entries(stage.attributes ?? {})) attributes[`${COMPONENT}.${key}`] = value as string | number | boolean | string[];
  if (guardrail !== undefined) {
    attributes['gen_ai.operation.name'] = 'run_guardrail';
    attributes['gen_ai.guardrail.component.name'] = guardrail;
    attributes['gen_ai.guardrail.target.type'] = target;
    // A guardrail reports; the policy decides. What it found is a warning to the policy, nothing found lets it pass.
    if (typeof stage.attributes?.findings === 'number') attributes['gen_ai.guardrail.verdict.type'] = stage.attributes.findings > 0 ? 'warn' : 'allow';
  }
  const span = tracer.startSpan(name, { kind: SpanKind.INTERNAL, startTime: start, attributes }, parent);
  if (stage.error !== undefined) {
    span.setAttribute('error.type', stage.error);
    span.setStatus({ code: SpanStatusCode.ERROR });
  }
  if (stage.children) {
    const inner = trace.setSpan(parent, span);
    for (const child of stage.children) stageSpan(tracer, child, inner, target, { start, end });
  }
  span.end(end);
}

/** Attributes that quote what the agent sent: read when the decision is recorded, before the caller can change those objects. */
function payloadAttributes(traced: TracedDecision): Attributes {
  const { decision, outcome, action } = traced;
  return {
    ...(decision && traced.operation !== 'outcome' ? decisionAttributes(decision, action, true) : {}),
    ...(outcome ? outcomeAttributes(outcome, true) : {}),
  };
}

function decorate(span: Span, traced: TracedDecision, payloads: Attributes | undefined): void {
  const { decision, outcome, action } = traced;
  if (payloads) span.setAttributes(payloads);
  if (decision && traced.operation !== 'outcome') {
    if (!payloads) span.setAttributes(decisionAttributes(decision, action, false));
    for (const finding of decision.findings) span.addEvent('gen_ai.guardrail.security.finding', findingAttributes(finding, decision, action), traced.trace.end);
  } else if (decision) {
    span.setAttributes({ 'agentguard.decision.id': decision.id, 'agentguard.decision.effect': decision.effect, 'agentguard.policy.hash': decision.policy.hash });
  }
  if (outcome && !payloads) span.setAttributes(outcomeAttributes(outcome, false));
  if (traced.error !== undefined) {
    span.setAttribute('error.type', errorKind(traced.error));
    span.setStatus({ code: SpanStatusCode.ERROR });
  } else if (outcome?.status === 'error') {
    span.setStatus({ code: SpanStatusCode.ERROR });
  }
}

/**
 * A DecisionTracer that turns each traced decision into OpenTelemetry spans on `tracer`: one span per decision (or
 * outcome) from its start to its end, with a child span per stage the pipeline ran (auth, session.read, guardrails,
 * policy with a `run_guardrail <name>` span per guardrail run, rate_limit, budget.reserve, approval, session, audit,
 * budget.settle) and an event per finding. The spans are built after the decision was answered (on the next turn of
 * the event loop, with the times measured while it ran and the parent context of the moment it was decided), so a
 * decision waits on no span and no export.
 */
export function spanTracer(tracer: Tracer, options: SpanTracerOptions = {}): SpanTracer {
  const payloads = options.payloads === true;
  const kind = options.kind === 'server' ? SpanKind.SERVER : SpanKind.INTERNAL;
  let pending: Array<{ traced: TracedDecision; parent: Context; quoted: Attributes | undefined }> = [];
  let scheduled = false;
  let dropped = 0;
  const build = (traced: TracedDecision, parent: Context, quoted: Attributes | undefined): void => {
    const attributes = actionAttributes(traced.operation, traced.action);
    const root = tracer.startSpan(spanName(traced), { kind, startTime: traced.trace.start, attributes }, parent);
    // Not sampled (OTEL_TRACES_SAMPLER, or an unsampled parent): nothing more is built.
    if (!root.isRecording()) {
      root.end(traced.trace.end);
      return;
    }
    decorate(root, traced, quoted);
    const inner = trace.setSpan(parent, root);
    // A trace not ended yet ends its root span now, after every stage it recorded.
    const within = { start: traced.trace.start, end: traced.trace.end === undefined ? Infinity : Math.max(traced.trace.end, traced.trace.start) };
    for (const stage of traced.trace.stages) stageSpan(tracer, stage, inner, String(attributes['gen_ai.guardrail.target.type']), within);
    root.end(traced.trace.end);
  };
  const drain = (): void => {
    scheduled = false;
    const batch = pending;
    pending = [];
    for (const { traced, parent, quoted } of batch) {
      try {
        build(traced, parent, quoted);
      } catch {
        // A span that cannot be built is lost; the others are not.
      }
    }
  };
  return {
    record(traced) {
      if (pending.length >= MAX_PENDING_DECISIONS) {
        dropped++;
        return;
      }
      // The parent is read now: the active span of the caller is the one in force while it decided.
      pending.push({ traced, parent: parentContext(traced.trace.parent), quoted: payloads ? payloadAttributes(traced) : undefined });
      if (!scheduled) {
        scheduled = true;
        setImmediate(drain);
      }
    },
    drain,
    get dropped() {
      return dropped;
    },
  };
}
