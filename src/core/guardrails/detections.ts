import { performance } from 'node:perf_hooks';
import type { Finding as DecisionFinding } from '../action.js';
import { DEFAULT_GUARDRAIL_BUDGET_MS, GuardrailTimeoutError, isGuardrailTimeout, withDeadline } from './budget.js';
import type { DetectOptions, Finding, Guardrail } from './types.js';
import { traceClock, type DecisionTrace } from '../telemetry/decision-trace.js';

type Result = Finding[] | Promise<Finding[]> | { error: Error };

export interface DetectionsOptions {
  /** Milliseconds of synchronous guardrail work this decision may take (default DEFAULT_GUARDRAIL_BUDGET_MS). */
  budgetMs?: number;
  /** Told of each guardrail run (a traced decision's timings, see DecisionTrace.guardrailRun); nothing is timed without it. */
  onRun?: DecisionTrace['guardrailRun'];
}

/**
 * The guardrail results of one decision: each guardrail runs at most once per distinct text, however many rules and
 * redact steps look at that text. `prepare` runs asynchronous guardrails ahead of the synchronous policy evaluation;
 * `findings` then answers from the cache (or runs a synchronous guardrail on first use). A guardrail that failed, or
 * an asynchronous one that was not prepared, throws — and the rule that asked counts as an error (fail closed).
 */
export class Detections {
  private readonly results = new Map<string, Map<string, Result>>();
  private readonly seen = new Set<string>();
  /** Findings that took part in the decision (matched a detect condition or were redacted), with where they were. */
  readonly reported: DecisionFinding[] = [];
  readonly budgetMs: number;
  /** Milliseconds of guardrail work spent so far, here and in workers (see adopt). */
  private spentMs = 0;
  private timedOut = false;
  private readonly onRun: DetectionsOptions['onRun'];

  constructor(
    private readonly guardrails: ReadonlyMap<string, Guardrail>,
    options: DetectionsOptions = {},
  ) {
    this.budgetMs = options.budgetMs ?? DEFAULT_GUARDRAIL_BUDGET_MS;
    this.onRun = options.onRun;
  }

  /** True once a guardrail could not finish within the budget (its rule then fails closed with `guardrail_timeout`). */
  get exceeded(): boolean {
    return this.timedOut;
  }

  /** Budget left, in milliseconds (0 when spent). */
  get remainingMs(): number {
    return Math.max(0, this.budgetMs - this.spentMs);
  }

  private guardrail(name: string): Guardrail {
    const guardrail = this.guardrails.get(name);
    if (!guardrail) throw new Error(`guardrail "${name}" is not set up for this policy`);
    return guardrail;
  }

  /** A restricted call (types sorted) is cached apart from the unrestricted one, under its options. */
  private run(name: string, text: string, options?: DetectOptions): Result {
    const key = options === undefined ? name : `${name}\u0000${JSON.stringify(options)}`;
    let byText = this.results.get(key);
    if (!byText) this.results.set(key, (byText = new Map()));
    let result = byText.get(text);
    if (result === undefined) {
      result = this.onRun ? this.timed(name, text, options) : this.detect(name, text, options);
      byText.set(text, result);
    }
    return result;
  }

  /** detect(), with the run reported to onRun: when it started and ended, how much text, how many findings. */
  private timed(name: string, text: string, options?: DetectOptions): Result {
    const start = traceClock();
    const report = (result: Finding[] | { error: Error }, async: boolean) => {
      const attributes = { chars: text.length, async, ...('error' in result ? {} : { findings: result.length }) };
      this.onRun!(name, start, traceClock(), attributes, 'error' in result ? result.error : undefined);
    };
    const result = this.detect(name, text, options);
    if (!(result instanceof Promise)) {
      report(result, false);
      return result;
    }
    return result.then(
      (findings) => {
        report(findings, true);
        return findings;
      },
      (error: unknown) => {
        report({ error: error instanceof Error ? error : new Error(String(error)) }, true);
        throw error;
      },
    );
  }

  /** Runs a guardrail once; synchronous ones against what is left of the budget, with the time they took counted. */
  private detect(name: string, text: string, options?: DetectOptions): Result {
    let guardrail: Guardrail;
    try {
      guardrail = this.guardrail(name);
      // Services (asynchronous adapters) wait on the network and keep their own timeouts: the budget counts work.
      if (guardrail.async) return guardrail.detect(text);
      // Loading a model on first use is set-up, not work on this text: done before the budget's clock starts.
      guardrail.prepare?.();
    } catch (error) {
      return { error: error instanceof Error ? error : new Error(String(error)) };
    }
    if (this.timedOut || this.remainingMs === 0) return this.timeout();
    const started = performance.now();
    try {
      return withDeadline(this.remainingMs, this.budgetMs, () => guardrail.detect(text, options) as Finding[]);
    } catch (error) {
      if (isGuardrailTimeout(error)) return this.timeout();
      return { error: error instanceof Error ? error : new Error(String(error)) };
    } finally {
      this.spentMs += performance.now() - started;
    }
  }

  private timeout(): { error: Error } {
    this.timedOut = true;
    return { error: new GuardrailTimeoutError(this.budgetMs) };
  }

  /**
   * The result of guardrail work done elsewhere for this decision (a worker thread), kept as if it had run here.
   * `undefined` means it ran out of budget there. Count the time it took with `spend`.
   */
  adopt(name: string, text: string, result: Finding[] | { error: Error } | undefined): void {
    let byText = this.results.get(name);
    if (!byText) this.results.set(name, (byText = new Map()));
    byText.set(text, result ?? this.timeout());
  }

  /** Counts guardrail work done elsewhere for this decision against its budget. */
  spend(ms: number): void {
    this.spentMs += ms;
  }

  /** Runs a guardrail on a text ahead of evaluation, awaiting it when it is asynchronous. Never throws. */
  async prepare(name: string, text: string): Promise<void> {
    const result = this.run(name, text);
    if (!(result instanceof Promise)) return;
    try {
      this.results.get(name)!.set(text, await result);
    } catch (error) {
      this.results.get(name)!.set(text, { error: error instanceof Error ? error : new Error(String(error)) });
    }
  }

  /**
   * The findings of a guardrail on a text. Throws when the guardrail failed or is asynchronous and was not prepared.
   * A rule that asks for some `types`, or for a `minScore`, also gets everything the guardrail reports when asked for
   * just that (callers still select): a guardrail that `resolvesOverlaps` keeps one of overlapping findings, so an
   * unrestricted call may hide an SSN behind the phone number it also reads as, or (secrets ranks by format, not
   * score) a 0.9 password in a URL behind the 0.85 key it also is. That second call is made only when the unrestricted
   * one found a type not asked for or a score below the rule's, once per text, types and score: when every finding is
   * one the rule asks for, every candidate it would not ask for lost, a candidate that loses hides nothing, so the
   * asked candidates alone resolve the same way. What the unrestricted call found is kept too, so a rule never sees
   * less than before; its findings may then overlap one another, and redaction merges overlapping spans into one.
   */
  findings(name: string, text: string, types?: ReadonlySet<string>, minScore = 0): Finding[] {
    const all = this.answer(name, text);
    const asked = (f: Finding) => f.score >= minScore && (types === undefined || types.has(f.type));
    if (all.every(asked)) return all;
    const guardrail = this.guardrail(name);
    // An asynchronous guardrail was prepared with one unrestricted call; asking it again here could not be awaited.
    if (!guardrail.resolvesOverlaps || guardrail.async) return all;
    // A score below the rule's is at least the guardrail's own minimum, so minScore here never lowers that minimum.
    const options: DetectOptions = { ...(types ? { types: [...types].sort() } : {}), ...(all.some((f) => f.score < minScore) ? { minScore } : {}) };
    const only = this.answer(name, text, options);
    const seen = new Set(all.map((f) => `${f.type}\u0000${f.start}\u0000${f.end}`));
    return [...all, ...only.filter((f) => !seen.has(`${f.type}\u0000${f.start}\u0000${f.end}`))];
  }

  private answer(name: string, text: string, options?: DetectOptions): Finding[] {
    const result = this.run(name, text, options);
    if (result instanceof Promise) {
      throw new Error(`guardrail "${name}" answers asynchronously; decide through the pipeline (AgentGuard or the sidecar), not Policy.evaluate`);
    }
    if ('error' in result) throw isGuardrailTimeout(result.error) ? result.error : new Error(`guardrail "${name}" failed: ${result.error.message}`);
    return result;
  }

  /** Adds findings of the guardrail the policy calls `name` to the decision's list, once each. */
  report(name: string, findings: readonly Finding[], path: string): void {
    for (const f of findings) {
      const key = `${name}\u0000${f.type}\u0000${path}\u0000${f.start}\u0000${f.end}`;
      if (this.seen.has(key)) continue;
      this.seen.add(key);
      this.reported.push({ guardrail: name, type: f.type, start: f.start, end: f.end, score: Math.round(f.score * 1000) / 1000, path });
    }
  }
}

/** Keeps the findings a detect or redact asks for. */
export function selectFindings(findings: readonly Finding[], types: ReadonlySet<string> | undefined, minScore: number): Finding[] {
  return findings.filter((f) => f.score >= minScore && (types === undefined || types.has(f.type)));
}
