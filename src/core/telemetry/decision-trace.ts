import { performance } from 'node:perf_hooks';
import type { Action, Decision } from '../action.js';
import type { Outcome } from '../pipeline.js';

/** A span attribute value: what OpenTelemetry accepts, kept free of the OpenTelemetry types so core depends on nothing. */
export type TraceValue = string | number | boolean | readonly string[];

/** One timed stage of a decision (or of a stage: a guardrail run inside the policy stage). Times are epoch milliseconds. */
export interface StageRecord {
  /** auth, session.read, guardrails, guardrail, guardrail_workers, policy, rate_limit, budget.reserve, approval, session, audit, budget.settle */
  name: string;
  start: number;
  end: number;
  attributes?: Record<string, TraceValue>;
  /** A short, content-free description of what failed (an error class or code), never the error's message. */
  error?: string;
  children?: StageRecord[];
}

/** Where a decision's trace hangs: a W3C trace context that came with the request (the sidecar's `traceparent` header). */
export interface TraceParent {
  traceparent: string;
  tracestate?: string;
}

/** What a caller knows about a decision before the engine sees it (the sidecar's request arrival and authentication). */
export interface TraceCall {
  parent?: TraceParent;
  /** When the request arrived (epoch ms); the decision's span starts here instead of when the engine was called. */
  startedAt?: number;
  /** Stages that ran before the engine (auth), as children of the decision's span. */
  stages?: StageRecord[];
}

/** What the engine hands a tracer once a decision, preview, answer decision or outcome is done. */
export interface TracedDecision {
  /** decide: recorded decision; preview: not recorded; answer: a model answer's decision, recorded with the outcome; outcome: what happened when an action ran. */
  operation: 'decide' | 'preview' | 'answer' | 'outcome';
  /** The action as it was given to the engine (agent id filled in, before any transform); for outcomes, the decision's action. */
  action: Action;
  /** The decision (for outcomes: the decision whose outcome was recorded). Undefined when the pipeline threw. */
  decision?: Decision;
  outcome?: Outcome;
  trace: DecisionTrace;
  /** What the pipeline threw (the caller then gets that error, not a decision). */
  error?: unknown;
}

/**
 * Receives each traced decision once it is done. It must return at once and never throw into the engine (the engine
 * catches anyway): exporting happens elsewhere, in the background. Implemented outside core (src/telemetry), so core
 * loads no OpenTelemetry module; without a tracer the pipeline records no timings at all.
 */
export interface DecisionTracer {
  record(traced: TracedDecision): void;
}

/** The wall clock in epoch milliseconds with sub-millisecond resolution (performance.now() keeps it monotonic). */
export function traceClock(): number {
  return performance.timeOrigin + performance.now();
}

/**
 * The stage timings of one decision, collected by the pipeline while it runs. Guardrail runs are kept aside and become
 * children of the stage that was running when they happened (the asynchronous guardrails before the policy, the
 * synchronous ones inside it).
 */
export class DecisionTrace {
  readonly start: number;
  readonly stages: StageRecord[];
  end: number | undefined;
  readonly parent: TraceParent | undefined;
  private runs: StageRecord[] = [];

  constructor(call?: TraceCall) {
    this.start = call?.startedAt ?? traceClock();
    this.stages = call?.stages ? [...call.stages] : [];
    this.parent = call?.parent;
  }

  /** Records a stage that began at `start` and ends now; the guardrail runs since the last stage become its children. */
  stage(name: string, start: number, attributes?: Record<string, TraceValue>, error?: string): void {
    const record: StageRecord = { name, start, end: traceClock() };
    if (attributes) record.attributes = attributes;
    if (error !== undefined) record.error = error;
    if (this.runs.length > 0) {
      record.children = this.runs;
      this.runs = [];
    }
    this.stages.push(record);
  }

  /** Times an asynchronous stage; a rejection is recorded by its error's class or code and passed on. */
  async time<T>(name: string, run: () => Promise<T>, attributes?: (result: T) => Record<string, TraceValue> | undefined): Promise<T> {
    const start = traceClock();
    try {
      const result = await run();
      this.stage(name, start, attributes?.(result));
      return result;
    } catch (error) {
      this.stage(name, start, undefined, errorKind(error));
      throw error;
    }
  }

  /** One run of a guardrail on one text (see Detections' onRun). */
  readonly guardrailRun = (guardrail: string, start: number, end: number, attributes: Record<string, TraceValue>, error?: unknown): void => {
    const record: StageRecord = { name: 'guardrail', start, end, attributes: { guardrail, ...attributes } };
    if (error !== undefined) record.error = errorKind(error);
    this.runs.push(record);
  };

  /** The batch of texts the guardrail worker threads ran for this decision (see GuardrailPool). */
  workersRun(start: number, end: number, attributes: Record<string, TraceValue>): void {
    this.runs.push({ name: 'guardrail_workers', start, end, attributes });
  }

  /** Marks the decision done (the end of its span). */
  finish(): void {
    this.end ??= traceClock();
    // Runs after the last stage (none in practice) are kept rather than lost.
    if (this.runs.length > 0) this.stage('guardrails', this.runs[0]!.start);
  }
}

/** A content-free name for what went wrong: an error's code or class, never its message (messages may quote input). */
export function errorKind(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && /^[A-Za-z0-9_.-]{1,64}$/.test(code)) return code;
  const name = (error as { name?: unknown } | null)?.name;
  return typeof name === 'string' && /^[A-Za-z0-9_.-]{1,64}$/.test(name) ? name : 'Error';
}
