import { isAgentGuardError, type ErrorCode } from '../../core/errors.js';
import { SourceError } from '../../core/policy/load.js';
import { isPolicyError } from '../../core/policy/policy-error.js';
import { Policy } from '../../core/policy/policy.js';
import type { PolicyProblem } from '../../core/policy/problem.js';

/** How the last reload went. */
export interface ReloadStatus {
  ok: boolean;
  /** ISO 8601. */
  at: string;
  /** Why it failed (the previous policy stayed in force). */
  error?: string;
}

/** What `GET /v1/policy` shows. */
export interface PolicyInfo {
  name: string;
  hash: string;
  rules: number;
  source: string;
  loadedAt: string;
  lastReload?: ReloadStatus;
}

/** The result of a reload: the new policy, or why it was refused. */
export type ReloadResult =
  | { ok: true; changed: boolean; policy: PolicyInfo }
  | { ok: false; code: ErrorCode; message: string; problems: PolicyProblem[]; actions: string[] };

/**
 * The policy in force, swapped atomically by `reload()`: a request reads `current` once and decides with that one
 * policy even when a reload lands meanwhile. A new policy that fails to load leaves the old one in force. Reloads run
 * one at a time, so two at once cannot finish out of order.
 *
 * @example
 * const state = new PolicyState(await Policy.fromFile(path), path);
 * const result = await state.reload();   // after the file changed (SIGHUP, POST /v1/policy/reload)
 */
export class PolicyState {
  private policy: Policy;
  private loadedAt: Date;
  private last?: ReloadStatus;
  private queue: Promise<unknown> = Promise.resolve();
  readonly policyPath?: string;
  private readonly now: () => Date;

  /** Where reloads read the policy from instead of `policyPath`: the fleet's store (`--policy-from-store`). */
  private readonly loader?: () => Promise<Policy>;

  constructor(policy: Policy, policyPath?: string, now: () => Date = () => new Date(), loader?: () => Promise<Policy>) {
    this.policy = policy;
    this.policyPath = policyPath;
    this.now = now;
    this.loadedAt = now();
    this.loader = loader;
  }

  get current(): Policy {
    return this.policy;
  }

  get lastReload(): ReloadStatus | undefined {
    return this.last;
  }

  info(): PolicyInfo {
    const info: PolicyInfo = {
      name: this.policy.name,
      hash: this.policy.hash,
      rules: this.policy.document.rules.length,
      source: this.policy.filename,
      loadedAt: this.loadedAt.toISOString(),
    };
    if (this.last) info.lastReload = this.last;
    return info;
  }

  /** Reads `policyPath` again and swaps it in when it is valid. Never throws for a bad file; the result says why. */
  reload(): Promise<ReloadResult> {
    const next = this.queue.then(() => this.reloadNow());
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async reloadNow(): Promise<ReloadResult> {
    const at = this.now();
    if (!this.policyPath && !this.loader) {
      const message = 'this sidecar was given a policy in memory, not a file, so there is nothing to reload';
      this.last = { ok: false, at: at.toISOString(), error: message };
      return { ok: false, code: 'RELOAD_UNAVAILABLE', message, problems: [], actions: ['Start the sidecar with a policy file to reload it.'] };
    }
    let policy: Policy;
    try {
      policy = this.loader ? await this.loader() : await Policy.fromFile(this.policyPath!);
    } catch (error) {
      const failure = describeFailure(error);
      this.last = { ok: false, at: at.toISOString(), error: failure.message };
      return failure;
    }
    const changed = policy.hash !== this.policy.hash;
    this.policy = policy;
    this.loadedAt = at;
    this.last = { ok: true, at: at.toISOString() };
    return { ok: true, changed, policy: this.info() };
  }
}

function describeFailure(error: unknown): Extract<ReloadResult, { ok: false }> {
  if (isPolicyError(error)) {
    return { ok: false, code: error.code, message: error.message, problems: error.problems, actions: error.actions };
  }
  if (error instanceof SourceError) {
    const problem: PolicyProblem = { severity: 'error', code: error.code.toLowerCase().replace(/_/g, '-'), message: error.message, path: '' };
    if (error.position) Object.assign(problem, error.position);
    return { ok: false, code: error.code, message: error.message, problems: [problem], actions: error.actions };
  }
  if (isAgentGuardError(error)) return { ok: false, code: error.code, message: error.message, problems: [], actions: error.actions };
  // Anything else is a bug in the loader; it still must not take the old policy down.
  return { ok: false, code: 'POLICY_RELOAD_FAILED', message: `the policy could not be loaded: ${(error as Error)?.message ?? String(error)}`, problems: [], actions: ['Check the sidecar log.'] };
}
