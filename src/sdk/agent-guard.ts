import { performance } from 'node:perf_hooks';
import type { Action, Decision } from '../core/action.js';
import { approvalsSectionName, costSectionName, loadProjectConfig } from '../core/config/project-config.js';
import { AgentGuardError } from '../core/errors.js';
import type { Outcome, Preview } from '../core/pipeline.js';
import { Policy } from '../core/policy/policy.js';
import type { Approvals } from '../core/approvals/service.js';
import type { AnswerRecords, Engine } from '../core/engine/types.js';
import { AgentGuardDeniedError, ApprovalRequiredError } from './errors.js';
import { awaitApproval, settleApproval, waitFor, type ApprovalWaitOptions, type GuardApprovals } from './approvals.js';
import { checkSidecarOptions, SIDECAR_ONLY, SidecarDecider, type SidecarGuardOptions } from './sidecar-client.js';
import { snapshot } from './snapshot.js';
import { checkToolResult } from './tool-result.js';
import { isPlainObject } from '../core/plain-object.js';
import { checkSessionsConfig } from '../core/sessions/config.js';
import { checkGuardTelemetry, startGuardTelemetry, type GuardTelemetry, type RunningTelemetry } from './telemetry.js';

export type { FailMode, SidecarConnection, SidecarGuardOptions } from './sidecar-client.js';

/** Options of local mode: the policy is evaluated in this process and recorded in the local audit trail. */
export interface LocalGuardOptions {
  /** A policy file path, or a Policy already loaded. */
  policy: string | Policy;
  /** The agent this guard decides for; put on every action that names no agent. */
  agentId: string;
  /** Where the audit database and keys live (default: the project's agentguard data folder). */
  dataDir?: string;
  /** Record every decision and outcome in the audit trail (default true). */
  audit?: boolean;
  /**
   * A fleet's PostgreSQL store, `postgresql://user:password@host:5432/db`, shared with its sidecars (default:
   * AGENTGUARD_STORE_URL, else "store.url" in agentguard.config.json, else SQLite in the data folder). See docs/fleet.md.
   */
  store?: string;
  /**
   * Prices and budgets, as the `cost` section of agentguard.config.json (default: that section of the project's
   * config). Needs the audit trail: the ledger lives in the same store.
   */
  cost?: Record<string, unknown>;
  /**
   * Approval notifications, as the `approvals` section of agentguard.config.json (default: that section of the
   * project's config). Channels whose secrets are not in this process's environment are queued for the sidecar.
   */
  approvals?: Record<string, unknown>;
  /**
   * OpenTelemetry trace export of every decision and outcome (default: the `telemetry` section of agentguard.config.json;
   * off without one): `{ otlp: { endpoint?, headers?, serviceName? }, payloads? }` starts an OTLP/HTTP exporter of its
   * own, `{ tracerProvider }` sends the spans to the application's provider. Spans hang under the active span. See
   * docs/observability.md.
   */
  telemetry?: GuardTelemetry;
}

/** Decisions about one model answer, recorded together with the call's outcome (see AgentGuard.answerRecords). */
export type { AnswerRecords } from '../core/engine/types.js';

/** Either local mode (`policy`) or sidecar mode (`sidecar`). */
export type AgentGuardOptions = LocalGuardOptions | SidecarGuardOptions;

export interface ProtectOptions {
  /** Action kind (default `tool`). */
  kind?: string;
  /**
   * When the policy requires approval: `false` (default) throws ApprovalRequiredError at once, with the pending
   * approval's id in `error.decision.approval`, so an agent framework can pause and resume; `true` (or a bound) waits
   * for a person's answer and runs the function once if it was approved.
   */
  waitForApproval?: boolean | ApprovalWaitOptions;
  /** Extra context recorded with each action (session, user, env…). */
  context?: Record<string, unknown>;
  /**
   * Decide the function's result before it is returned, as `{ kind: 'tool_output', name, input: { content: [<the
   * result: a string as is, anything else as JSON>] } }`: allow returns it, transform returns the rewritten text (parsed
   * back for a non-string result), deny or require_approval throws AgentGuardDeniedError. With a session
   * (`guard.session(id)`), an injection found in it taints the session. The policy must allow `tool_output`.
   */
  checkResult?: boolean;
}

/** A guard bound to one agent session: every action it decides names `context.session.id` (see AgentGuard.session). */
export interface GuardSession {
  readonly id: string;
  decide(action: Action, options?: { waitForApproval?: boolean | ApprovalWaitOptions }): Promise<Decision>;
  preview(action: Action): Promise<Preview>;
  protect<A extends unknown[], R>(name: string, fn: (...args: A) => R | Promise<R>, options?: ProtectOptions): (...args: A) => Promise<Awaited<R>>;
}

/**
 * The guard an agent calls before it acts. Local mode evaluates the policy in this process and records each decision;
 * sidecar mode asks an agentguard sidecar over HTTP and fails closed when it cannot.
 *
 * @example
 * const guard = new AgentGuard({ policy: 'agentguard/policy.yaml', agentId: 'support-bot' });
 * // or: new AgentGuard({ sidecar: { url: 'http://127.0.0.1:7777', token: process.env.AGENTGUARD_TOKEN! } });
 * const query = guard.protect('db.query', async ({ sql }) => db.query(sql));
 * await query({ sql: 'SELECT 1' });   // runs; `DROP TABLE` throws AgentGuardDeniedError and never runs
 * await guard.close();
 */
export class AgentGuard {
  private readonly local?: LocalGuardOptions;
  private readonly remote?: SidecarDecider;
  private engine?: Promise<Engine>;
  private telemetryOption?: GuardTelemetry;
  private telemetry?: RunningTelemetry;
  private closed = false;
  private readonly pending = new Set<Promise<void>>();

  constructor(options: AgentGuardOptions) {
    if (!isPlainObject(options)) throw optionsError('AgentGuard needs options: `{ policy, agentId }` (local mode) or `{ sidecar: { url, token } }` (sidecar mode)');
    const hasPolicy = 'policy' in options && options.policy !== undefined;
    const hasSidecar = 'sidecar' in options && options.sidecar !== undefined;
    if (hasPolicy && hasSidecar) throw optionsError('AgentGuard takes either `policy` (local mode) or `sidecar` (sidecar mode), not both');
    if (hasSidecar) {
      this.remote = new SidecarDecider(checkSidecarOptions(options as SidecarGuardOptions));
      return;
    }
    const local = options as LocalGuardOptions;
    if (typeof local.policy !== 'string' && !(local.policy instanceof Policy)) {
      throw optionsError('AgentGuard needs `policy` (a policy file path or a Policy) for local mode, or `sidecar: { url, token }` for sidecar mode');
    }
    if (typeof local.agentId !== 'string' || local.agentId === '') {
      throw optionsError('AgentGuard needs `agentId`: the id of the agent it guards');
    }
    for (const key of SIDECAR_ONLY) {
      if ((options as unknown as Record<string, unknown>)[key] !== undefined) throw optionsError(`\`${key}\` applies to sidecar mode only; remove it or use \`sidecar: { url, token }\` instead of \`policy\``);
    }
    this.telemetryOption = checkGuardTelemetry(local.telemetry);
    this.local = local;
  }

  /** Approvals of this guard's require_approval decisions: read, wait for a person's answer, spend on one run. */
  readonly approvals: GuardApprovals = {
    get: async (id) => (this.remote ? this.remote.approvals().get(id) : (await this.approvalService()).get(id)),
    // In sidecar mode each look long-polls the sidecar for up to 20 s, so a decision arrives at once.
    wait: (id, options) => waitFor((key) => (this.remote ? this.remote.approvals().get(key, 20) : this.approvals.get(key)), id, options),
    consume: async (id, action) => (this.remote ? this.remote.approvals().consume(id, action) : (await this.approvalService()).consume(id, action)),
  };

  private async approvalService(): Promise<Approvals> {
    const engine = await this.setup();
    if (!engine.approvals) throw new AgentGuardError('APPROVALS_NEED_AUDIT', 'approvals need the audit trail: this guard was created with `audit: false`');
    return engine.approvals;
  }

  /** Opens the engine of local mode on first use (the one every front door decides with, see openEngine). */
  private setup(): Promise<Engine> {
    const options = this.local as LocalGuardOptions;
    this.engine ??= (async () => {
      const policy = typeof options.policy === 'string' ? await Policy.fromFile(options.policy) : options.policy;
      await policy.assertRegexesSafe();
      // Loaded on first use, so importing the SDK does not load the engine's modules (nor, through them, SQLite).
      const { openEngine } = await import('../core/engine/open-engine.js');
      if (options.audit === false && options.cost !== undefined) throw optionsError('`cost` needs the audit trail (the ledger is kept in its store): remove `audit: false`');
      // The project's config gives what the options leave out, and in either mode its guardrail budget per decision
      // (guardrails.budgetMs) and which results taint a session (sessions.untrusted), as the sidecar and the CLI use them.
      // Without audit, an unreadable config only costs those (and the folder's redaction key): this mode never needed it.
      const needsProject = options.audit !== false && (options.dataDir === undefined || options.cost === undefined || options.approvals === undefined);
      const project = needsProject ? await loadProjectConfig() : await loadProjectConfig().catch(() => undefined);
      this.telemetry = await startGuardTelemetry(this.telemetryOption, project?.config.telemetry);
      const shared = {
        policy,
        agentId: options.agentId,
        ...(this.telemetry ? { tracer: this.telemetry.tracer } : {}),
        guardrails: { budgetMs: project?.config.guardrails?.budgetMs },
        sessions: checkSessionsConfig(project?.config.sessions, `${project?.file ?? 'agentguard.config.json'}: sessions`),
      };
      // Nothing is written without audit: the data folder's redaction key is read when it exists (see readOnlyRedactionKey).
      if (options.audit === false) return openEngine({ ...shared, record: false, dataDir: options.dataDir ?? project?.paths.dataDir });
      const dataDir = options.dataDir ?? project!.paths.dataDir;
      const [{ postAlert }, { readNotifySetup }, { Deliverer }] = await Promise.all([
        import('../alerts/webhook.js'),
        import('../notify/config.js'),
        import('../notify/deliverer.js'),
      ]);
      const notify = readNotifySetup(options.approvals ?? project?.config.approvals, options.approvals !== undefined ? 'AgentGuard option approvals' : approvalsSectionName(project?.file));
      return openEngine({
        ...shared,
        record: true,
        dataDir,
        ...(options.store !== undefined ? { storeUrl: options.store } : {}),
        // An agent waits on each of its records: commit them as soon as its own code yields, not a loop turn later.
        groupCommit: 'microtask',
        cost: { config: options.cost ?? project?.config.cost, where: options.cost !== undefined ? 'AgentGuard option cost' : costSectionName(project?.file) },
        onAlert: (alert) => void postAlert(alert),
        notifications: { subscriptions: notify.subscriptions, sender: (deliveries) => new Deliverer({ deliveries, channels: notify.channels }) },
      });
    })();
    return this.engine;
  }

  /**
   * Decides an action (and records the decision). In local mode it rejects only when the guard cannot start, e.g. an
   * invalid policy file; in sidecar mode it does not reject for sidecar failures but answers deny (`sidecar_unavailable`).
   *
   * A require_approval decision comes back at once, pending (`decision.approval`), unless `waitForApproval` is set:
   * then it waits for the person's answer and returns `allow` once approved, with the approval spent on the one run
   * the caller makes now, or `deny` (denied, expired, not decided within the wait).
   */
  async decide(action: Action, options: { waitForApproval?: boolean | ApprovalWaitOptions } = {}): Promise<Decision> {
    this.assertOpen();
    const decision = this.remote ? await this.remote.decide(action) : await (await this.setup()).decide(action);
    if (decision.effect !== 'require_approval' || !options.waitForApproval || !decision.approval) return decision;
    return settleApproval(this.approvals, decision, options.waitForApproval === true ? {} : options.waitForApproval);
  }

  /**
   * The same guard for one agent session (a conversation, a task): its actions carry `context.session.id`, so once a
   * result it read was untrusted (an injection found in it, or a source listed in `sessions.untrusted`), its later
   * actions are decided with `context.session.tainted: true` and `taintSources`. Taint is kept in the store: every
   * process on the data folder (and the sidecar) sees it.
   *
   * @example
   * const chat = guard.session('conversation-42');
   * const send = chat.protect('mail.send', sendMail);   // denied by a rule on context.session.tainted once tainted
   */
  session(id: string): GuardSession {
    if (typeof id !== 'string' || id === '') throw optionsError('guard.session(id) needs the session id: a non-empty string');
    const withSession = (context: Record<string, unknown> | undefined): Record<string, unknown> => ({
      ...context,
      session: { ...(isPlainObject(context?.session) ? context.session : {}), id },
    });
    return {
      id,
      decide: (action, options) => this.decide({ ...action, context: withSession(action.context) }, options),
      preview: (action) => this.preview({ ...action, context: withSession(action.context) }),
      protect: (name, fn, options = {}) => this.protect(name, fn, { ...options, context: withSession(options.context) }),
    };
  }

  /** `local`: the policy is evaluated in this process; `sidecar`: a sidecar decides over HTTP. */
  get mode(): 'local' | 'sidecar' {
    return this.remote ? 'sidecar' : 'local';
  }

  /**
   * What the policy would decide, without recording it, and how many characters a stream of such text must hold
   * back. For checks of partial text, such as windows of a streamed answer; the whole answer is decided with decide().
   */
  async preview(action: Action): Promise<Preview> {
    this.assertOpen();
    if (this.remote) return this.remote.preview(action);
    return (await this.setup()).preview(action);
  }

  /** Records what happened when an allowed action ran (sidecar mode: posts it to the sidecar). */
  async recordOutcome(decision: Decision, outcome: Outcome): Promise<void> {
    await this.track(this.remote ? this.remote.recordOutcome(decision, outcome) : this.setup().then((engine) => engine.recordOutcome(decision, outcome)));
  }

  /**
   * For guarded clients: the decisions about one model answer (its text, its tool calls), made through the returned
   * `decide`, are recorded by `commit` in one transaction with the call's outcome; `commit` must succeed before
   * anything of the answer is released, and rejects when the records cannot be stored. In sidecar mode the sidecar
   * records each decision as it makes it, and `commit` reports the outcome.
   */
  answerRecords(): AnswerRecords {
    if (this.remote) return { decide: (action) => this.decide(action), commit: (call, outcome) => this.recordOutcome(call, outcome) };
    // Opened with the first decision, so an answer with no decision (or a closed guard) opens nothing.
    let records: Promise<AnswerRecords> | undefined;
    const open = () => (records ??= this.setup().then((engine) => engine.answer()));
    return {
      decide: async (action) => {
        this.assertOpen();
        return (await open()).decide(action);
      },
      commit: async (call, outcome) => {
        await this.track(open().then((r) => r.commit(call, outcome)));
      },
    };
  }

  private assertOpen(): void {
    if (this.closed) throw new AgentGuardError('GUARD_CLOSED', 'this AgentGuard was closed');
  }

  /** close() waits for these, so records reported without awaiting them (and ledger rows) are never lost. */
  private async track(recording: Promise<void>): Promise<void> {
    this.pending.add(recording);
    try {
      await recording;
    } finally {
      this.pending.delete(recording);
    }
  }

  /**
   * Wraps a function so each call is decided first. A single plain-object argument is the action's input
   * (and the function receives the transformed input); otherwise the input is `{ args: [...] }`.
   * The function runs only on allow or transform; deny throws AgentGuardDeniedError, require_approval
   * throws ApprovalRequiredError, and any failure to decide throws too — in every case without running it.
   */
  protect<A extends unknown[], R>(name: string, fn: (...args: A) => R | Promise<R>, options: ProtectOptions = {}): (...args: A) => Promise<Awaited<R>> {
    const kind = options.kind ?? 'tool';
    return async (...given: A): Promise<Awaited<R>> => {
      // Read once: the policy decides on this copy and the function runs on it (a getter cannot answer twice).
      const args = snapshot(given);
      const single = args.length === 1 && isPlainObject(args[0]);
      const input = single ? (args[0] as Record<string, unknown>) : { args };
      const action: Action = { kind, name, input, ...(options.context ? { context: options.context } : {}) };
      const decision = await this.decide(action);
      if (decision.effect === 'require_approval') {
        if (!options.waitForApproval || !decision.approval) throw new ApprovalRequiredError(decision);
        await awaitApproval(this.approvals, decision, options.waitForApproval === true ? {} : options.waitForApproval);
      } else if (decision.effect !== 'allow' && decision.effect !== 'transform') {
        throw new AgentGuardDeniedError(decision);
      }
      const callArgs = argumentsFor<A>(decision, single, name);
      const started = performance.now();
      try {
        const result = await fn(...callArgs);
        await this.outcomeQuietly(decision, { status: 'ok', durationMs: performance.now() - started });
        return options.checkResult ? await this.checkedResult(name, result, options.context) : result;
      } catch (error) {
        await this.outcomeQuietly(decision, { status: 'error', durationMs: performance.now() - started, error: error instanceof Error ? error.message : String(error) });
        throw error;
      }
    };
  }

  /** protect()'s `checkResult`: the result as the policy lets the agent read it (see ProtectOptions.checkResult). */
  private checkedResult<R>(name: string, result: R, context: Record<string, unknown> | undefined): Promise<R> {
    return checkToolResult((action) => this.decide(action), name, result, context);
  }

  /** The action already ran: failing to record its outcome must not turn its result into an error. */
  private async outcomeQuietly(decision: Decision, outcome: { status: 'ok' | 'error'; durationMs: number; error?: string }): Promise<void> {
    try {
      await this.recordOutcome(decision, outcome);
    } catch (error) {
      process.emitWarning(`agentguard: could not record the outcome of ${decision.id}: ${(error as Error).message}`, { code: 'AGENTGUARD_AUDIT' });
    }
  }

  /**
   * Waits until the outcomes reported so far are recorded (guarded clients report them without waiting), and the
   * approval notifications being sent have been tried.
   */
  async flush(): Promise<void> {
    await Promise.allSettled([...this.pending]);
    const engine = await this.engine?.catch(() => undefined);
    await engine?.sender?.idle();
    await this.telemetry?.flush();
  }

  /** Local mode: writes a final signed checkpoint and closes the store. Either mode: later calls to decide() reject. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.flush();
    if (!this.engine) return;
    const engine = await this.engine.catch(() => undefined);
    await engine?.close();
    // The spans of the last decisions go out (bounded: a collector that does not answer is given up on).
    await this.telemetry?.shutdown();
  }
}

function optionsError(message: string): AgentGuardError {
  return new AgentGuardError('GUARD_OPTIONS', message);
}

function argumentsFor<A extends unknown[]>(decision: Decision, single: boolean, name: string): A {
  const input = decision.action.input;
  if (single) {
    if (!isPlainObject(input)) throw new AgentGuardError('TRANSFORM_SHAPE', `the policy's transform left ${name} without an input object, so it was not run`);
    return [input] as unknown as A;
  }
  const args = (input as { args?: unknown } | undefined)?.args;
  if (!Array.isArray(args)) throw new AgentGuardError('TRANSFORM_SHAPE', `the policy's transform removed the arguments of ${name}, so it was not run`);
  return args as A;
}
