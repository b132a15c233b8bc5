import type { Action } from '../../action.js';
import type { Policy } from '../policy.js';
import type { PolicyCoverage } from './types.js';

/**
 * Records which rules of each policy matched in at least one case. Uses `policy.explain`, which runs
 * the same compiled predicates as `policy.evaluate`, so coverage cannot disagree with decisions.
 */
export class RuleCoverage {
  private readonly reached = new Map<Policy, { file: string; rules: Set<string> }>();

  /** Registers a policy so it is reported even when no case reached any of its rules. */
  track(policy: Policy, file: string): void {
    if (!this.reached.has(policy)) this.reached.set(policy, { file, rules: new Set() });
  }

  record(policy: Policy, file: string, action: Action): void {
    this.track(policy, file);
    const entry = this.reached.get(policy)!;
    for (const trace of policy.explain(action)) if (trace.matched === true) entry.rules.add(trace.id);
  }

  /** One entry per policy, sorted by file; uncovered rules in file order. */
  report(): PolicyCoverage[] {
    return [...this.reached.entries()]
      .map(([policy, { file, rules }]) => ({
        policy: file,
        rules: policy.document.rules.length,
        uncovered: policy.document.rules.map((r) => r.id).filter((id) => !rules.has(id)),
      }))
      .sort((a, b) => (a.policy < b.policy ? -1 : a.policy > b.policy ? 1 : 0));
  }
}
