import { performance } from 'node:perf_hooks';
import type { Action, Decision } from '../core/action.js';
import { loadProjectConfig } from '../core/config/project-config.js';
import { AgentGuardError } from '../core/errors.js';
import { decide, recordOutcome, type PipelineContext } from '../core/pipeline.js';
import { Policy } from '../core/policy/policy.js';
import type { AuditRecorder } from '../core/audit/recorder.js';
import { AgentGuardDeniedError, ApprovalRequiredError } from './errors.js';

export interface AgentGuardOptions {
  /** A policy file path, or a Policy already loaded. */
  policy: string | Policy;
  /** The agent this guard decides for; put on every action that names no agent. */
  agentId: string;
  /** Where the audit database and keys live (default: the project's agentguard data folder). */
  dataDir?: string;
  /** Record every decision and outcome in the audit trail (default true). */
  audit?: boolean;
}

export interface ProtectOptions {
  /** Action kind (default `tool`). */
  kind?: string;
  /** Extra context recorded with each action (session, user, env…). */
  context?: Record<string, unknown>;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * The in-process guard (local mode): every action goes through the one decision pipeline and is recorded.
 *
 * @example
 * const guard = new AgentGuard({ policy: 'agentguard/policy.yaml', agentId: 'support-bot' });
 * const query = guard.protect('db.query', async ({ sql }) => db.query(sql));
 * await query({ sql: 'SELECT 1' });   // runs; `DROP TABLE` throws AgentGuardDeniedError and never runs
 * await guard.close();
 */
export class AgentGuard {
  private readonly options: AgentGuardOptions;
  private context?: Promise<PipelineContext & { sink?: AuditRecorder }>;
  private closed = false;

  constructor(options: AgentGuardOptions) {
    if (!options || (typeof options.policy !== 'string' && !(options.policy instanceof Policy))) {
      throw new AgentGuardError('GUARD_OPTIONS', 'AgentGuard needs `policy`: a policy file path or a Policy', { exitCode: 2 });
    }
    if (typeof options.agentId !== 'string' || options.agentId === '') {
      throw new AgentGuardError('GUARD_OPTIONS', 'AgentGuard needs `agentId`: the id of the agent it guards', { exitCode: 2 });
    }
    this.options = options;
  }

  private setup(): Promise<PipelineContext & { sink?: AuditRecorder }> {
    this.context ??= (async () => {
      const policy = typeof this.options.policy === 'string' ? await Policy.fromFile(this.options.policy) : this.options.policy;
      if (this.options.audit === false) return { policy, agentId: this.options.agentId };
      const dataDir = this.options.dataDir ?? (await loadProjectConfig()).paths.dataDir;
      // Loaded on first use, so importing the SDK does not load the native SQLite module.
      const { AuditRecorder } = await import('../core/audit/recorder.js');
      const sink = await AuditRecorder.open({ dataDir });
      return { policy, agentId: this.options.agentId, audit: sink, sink };
    })();
    return this.context;
  }

  /** Decides an action (and records the decision). Rejects only when the guard cannot start, e.g. an invalid policy file. */
  async decide(action: Action): Promise<Decision> {
    if (this.closed) throw new AgentGuardError('GUARD_CLOSED', 'this AgentGuard was closed', { exitCode: 2 });
    return decide(await this.setup(), action);
  }

  /** Records what happened when an allowed action ran. */
  async recordOutcome(decision: Decision, outcome: { status: 'ok' | 'error'; durationMs?: number; error?: string }): Promise<void> {
    await recordOutcome(await this.setup(), decision, outcome);
  }

  /**
   * Wraps a function so each call is decided first. A single plain-object argument is the action's input
   * (and the function receives the transformed input); otherwise the input is `{ args: [...] }`.
   * The function runs only on allow or transform; deny throws AgentGuardDeniedError, require_approval
   * throws ApprovalRequiredError, and any failure to decide throws too — in every case without running it.
   */
  protect<A extends unknown[], R>(name: string, fn: (...args: A) => R | Promise<R>, options: ProtectOptions = {}): (...args: A) => Promise<Awaited<R>> {
    const kind = options.kind ?? 'tool';
    return async (...args: A): Promise<Awaited<R>> => {
      const single = args.length === 1 && isPlainObject(args[0]);
      const input = single ? (args[0] as Record<string, unknown>) : { args };
      const action: Action = { kind, name, input, ...(options.context ? { context: options.context } : {}) };
      const decision = await this.decide(action);
      if (decision.effect === 'require_approval') throw new ApprovalRequiredError(decision);
      if (decision.effect !== 'allow' && decision.effect !== 'transform') throw new AgentGuardDeniedError(decision);
      const callArgs = argumentsFor<A>(decision, single, name);
      const started = performance.now();
      try {
        const result = await fn(...callArgs);
        await this.outcomeQuietly(decision, { status: 'ok', durationMs: performance.now() - started });
        return result;
      } catch (error) {
        await this.outcomeQuietly(decision, { status: 'error', durationMs: performance.now() - started, error: error instanceof Error ? error.message : String(error) });
        throw error;
      }
    };
  }

  /** The action already ran: failing to record its outcome must not turn its result into an error. */
  private async outcomeQuietly(decision: Decision, outcome: { status: 'ok' | 'error'; durationMs: number; error?: string }): Promise<void> {
    try {
      await this.recordOutcome(decision, outcome);
    } catch (error) {
      process.emitWarning(`agentguard: could not record the outcome of ${decision.id}: ${(error as Error).message}`, { code: 'AGENTGUARD_AUDIT' });
    }
  }

  /** Writes a final signed checkpoint and closes the store. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (!this.context) return;
    const ctx = await this.context.catch(() => undefined);
    await ctx?.sink?.close();
  }
}

function argumentsFor<A extends unknown[]>(decision: Decision, single: boolean, name: string): A {
  const input = decision.action.input;
  if (single) {
    if (!isPlainObject(input)) throw new AgentGuardError('TRANSFORM_SHAPE', `the policy's transform left ${name} without an input object, so it was not run`, { exitCode: 1 });
    return [input] as unknown as A;
  }
  const args = (input as { args?: unknown } | undefined)?.args;
  if (!Array.isArray(args)) throw new AgentGuardError('TRANSFORM_SHAPE', `the policy's transform removed the arguments of ${name}, so it was not run`, { exitCode: 1 });
  return args as A;
}
