import type { BuiltinSpec } from '../builtin-spec.js';
import type { Finding } from '../types.js';

/** One guardrail run on one text. */
export interface GuardrailJob {
  guardrail: BuiltinSpec;
  text: string;
}

/** A decision's guardrail work, sent to a worker as one message. */
export interface BatchRequest {
  id: number;
  /** Milliseconds of work the batch may take, all jobs together. */
  budgetMs: number;
  jobs: GuardrailJob[];
}

/** Per job: its findings, `timeout` when the budget ran out before it finished, or an error message. */
export type JobResult = { findings: Finding[] } | { timeout: true } | { error: string };

export interface BatchReply {
  id: number;
  results: JobResult[];
  /** Milliseconds the worker spent on the batch. */
  spentMs: number;
}

/** Key of a built-in guardrail and its config, as a worker caches what it has built. */
export function specKey(use: string, config: Record<string, unknown>): string {
  return `${use}\u0000${JSON.stringify(config)}`;
}
