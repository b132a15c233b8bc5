import type { Finding as DecisionFinding } from '../action.js';
import type { Finding, Guardrail } from './types.js';

type Result = Finding[] | Promise<Finding[]> | { error: Error };

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

  constructor(private readonly guardrails: ReadonlyMap<string, Guardrail>) {}

  private guardrail(name: string): Guardrail {
    const guardrail = this.guardrails.get(name);
    if (!guardrail) throw new Error(`guardrail "${name}" is not set up for this policy`);
    return guardrail;
  }

  private run(name: string, text: string): Result {
    let byText = this.results.get(name);
    if (!byText) this.results.set(name, (byText = new Map()));
    let result = byText.get(text);
    if (result === undefined) {
      try {
        result = this.guardrail(name).detect(text);
      } catch (error) {
        result = { error: error instanceof Error ? error : new Error(String(error)) };
      }
      byText.set(text, result);
    }
    return result;
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

  /** The findings of a guardrail on a text. Throws when the guardrail failed or is asynchronous and was not prepared. */
  findings(name: string, text: string): Finding[] {
    const result = this.run(name, text);
    if (result instanceof Promise) {
      throw new Error(`guardrail "${name}" answers asynchronously; decide through the pipeline (AgentGuard or the sidecar), not Policy.evaluate`);
    }
    if ('error' in result) throw new Error(`guardrail "${name}" failed: ${result.error.message}`);
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
