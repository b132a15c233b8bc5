/**
 * A guardrail inspects one text and reports findings. Guardrails never see policies,
 * actions or HTTP: the pipeline decides which texts they look at and what a finding means.
 */

/** One thing a guardrail found. `start`/`end` are UTF-16 indices into the inspected text. */
export interface Finding {
  /** Name of the guardrail that reported it, e.g. `pii`. */
  guardrail: string;
  /** What was found, e.g. `EMAIL_ADDRESS`, `AWS_ACCESS_KEY_ID`, `injection`, `hate`. */
  type: string;
  start: number;
  end: number;
  /** Confidence in [0, 1]. */
  score: number;
}

/** Per-call options every guardrail accepts. */
export interface DetectOptions {
  /** Report only these types (all when absent). */
  types?: readonly string[];
  /** Drop findings scoring below this (0 when absent). */
  minScore?: number;
  /**
   * Where the text sits, for guardrails that declare `contextAware`: `message` (a user or system message) or `data`
   * (something an agent read: a tool or MCP result, a fetched page, a retrieved document, an e-mail).
   */
  context?: TextContext;
}

/** See DetectOptions.context. */
export type TextContext = 'message' | 'data';

export interface Guardrail {
  readonly name: string;
  readonly description: string;
  /** Every type this guardrail can report. */
  readonly types: readonly string[];
  /**
   * Longest span, in UTF-16 code units, this guardrail can report; streaming holds back
   * this much text. `Infinity` for whole-text classifiers.
   */
  readonly maxSpanLength: number;
  /** Longest span of these types only (a rule that asks for `types`); maxSpanLength when absent. */
  maxSpanLengthOf?(types: readonly string[]): number;
  /**
   * Types found from the words around a span (names and places, by a tagger). An object key has no words around it,
   * so findings of these types in keys do not count (`Cookie` is a header, not a name).
   */
  readonly contextualTypes?: readonly string[];
  /**
   * True when `detect` keeps one of overlapping findings of different types (an SSN that also reads as a phone
   * number is reported as the phone number). A call with `types` (or a higher `minScore`) then finds what an
   * unrestricted call hides, so a rule that asks for some types or a score makes its own call when the unrestricted one
   * found something it does not ask for (Detections.findings).
   */
  readonly resolvesOverlaps?: boolean;
  /**
   * True when `detect` scores a text differently as a message or as data (DetectOptions.context, or `as` in its
   * config). A policy then reads texts through an instance configured with the context its `detect: { as }` names or
   * the action's kind implies (tool and MCP results are data); see policy/detect.ts.
   */
  readonly contextAware?: boolean;
  /**
   * Loads what `detect` needs (a model file) ahead of the first call, so a process that never calls it never pays for
   * it. The pipeline calls it outside the guardrail time budget; it throws when it cannot load (the rule that asked then
   * fails closed). `detect` must work without it (it loads on first use).
   */
  prepare?(): void;
  /**
   * True when `detect` returns a promise (adapters that call a service). The pipeline runs those ahead of policy
   * evaluation; an undeclared promise makes the rule that asked fail closed.
   */
  readonly async?: boolean;
  /** Local guardrails are synchronous; adapters that call a service return a promise. */
  detect(text: string, options?: DetectOptions): Finding[] | Promise<Finding[]>;
}

/**
 * A guardrail kind in the registry: built in or a plugin module. `configSchema` (JSON Schema,
 * draft-07) validates the `config` a user passes before `create` is called.
 */
export interface GuardrailFactory<Config = Record<string, unknown>> {
  readonly name: string;
  readonly description: string;
  readonly configSchema: Record<string, unknown>;
  create(config: Config): Guardrail;
}
