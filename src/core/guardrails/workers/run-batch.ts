import { performance } from 'node:perf_hooks';
import { isGuardrailTimeout, withDeadline } from '../budget.js';
import { memoizeDetect } from '../memo.js';
import { BUILTIN_GUARDRAILS } from '../registry.js';
import type { Finding, Guardrail } from '../types.js';
import { specKey, type BatchReply, type BatchRequest, type JobResult } from './protocol.js';

/** Guardrails this thread has built, by built-in name and config; each remembers findings per text, as on the main thread. */
const built = new Map<string, Guardrail>();
const MAX_BUILT = 64;

function guardrailFor(use: string, config: Record<string, unknown>): Guardrail {
  const key = specKey(use, config);
  let guardrail = built.get(key);
  if (guardrail === undefined) {
    const factory = BUILTIN_GUARDRAILS.get(use);
    if (factory === undefined) throw new Error(`unknown built-in guardrail "${use}"`);
    guardrail = memoizeDetect(factory.create(config));
    if (built.size >= MAX_BUILT) built.delete(built.keys().next().value as string);
    built.set(key, guardrail);
  }
  return guardrail;
}

/**
 * Runs a decision's guardrail jobs one after another within the batch's budget: the same built-in guardrail code the
 * main thread runs (the worker only moves it off the event loop). Jobs left when the budget runs out are timeouts.
 */
export function runBatch(request: BatchRequest): BatchReply {
  let spentMs = 0;
  const results: JobResult[] = [];
  for (const job of request.jobs) {
    const remaining = request.budgetMs - spentMs;
    if (remaining <= 0) {
      results.push({ timeout: true });
      continue;
    }
    let started = 0;
    try {
      // Building a guardrail (loading its model) is set-up, done at compile time on the main thread: not counted.
      const guardrail = guardrailFor(job.guardrail.use, job.guardrail.config);
      guardrail.prepare?.();
      started = performance.now();
      const findings = withDeadline(remaining, request.budgetMs, () => guardrail.detect(job.text) as Finding[]);
      results.push({ findings: findings.map((f) => ({ ...f })) });
    } catch (error) {
      results.push(isGuardrailTimeout(error) ? { timeout: true } : { error: error instanceof Error ? error.message : String(error) });
    } finally {
      if (started > 0) spentMs += performance.now() - started;
    }
  }
  return { id: request.id, results, spentMs };
}
