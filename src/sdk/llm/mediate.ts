import type { Decision } from '../../core/action.js';
import type { Outcome } from '../../core/pipeline.js';
import type { TokenUsage } from '../../core/cost/types.js';
import { AgentGuardError } from '../../core/errors.js';
import { AgentGuard, type AgentGuardOptions, type AnswerRecords } from '../agent-guard.js';
import { AgentGuardDeniedError, ApprovalRequiredError } from '../errors.js';
import { checkFetchOptions } from './request-options.js';

/**
 * What a guarded client does with a tool call the policy does not allow: throw (default), drop it, or mark it.
 * `defer` leaves the calls undecided in the answer, for the framework adapters (agentguard/openai-agents), whose
 * guarded tools decide each call where it runs and hand the model the framework's own refusal.
 */
export type ToolCallMode = 'throw' | 'strip' | 'annotate' | 'defer';

/** How a tool call was decided, attached as `agentguard` to tool calls in `annotate` mode. */
export interface ToolCallVerdict {
  effect: Decision['effect'];
  decisionId: string;
  reasons: string[];
}

/** Throws for the effects under which nothing may run; returns the input to use otherwise. */
export function inputToRun(decision: Decision, original: unknown): unknown {
  if (decision.effect === 'deny') throw new AgentGuardDeniedError(decision);
  if (decision.effect === 'require_approval') throw new ApprovalRequiredError(decision);
  return decision.effect === 'transform' ? decision.action.input : original;
}

/**
 * The request as it may leave the process: decided first as `kind: "llm"`, name `<provider>.<model>`, input the
 * request. Deny or approval throw before any HTTP request; a transform (e.g. redaction) is what gets sent.
 */
export async function mediateRequest<T extends object>(guard: AgentGuard, name: string, request: T, context?: Record<string, unknown>): Promise<{ decision: Decision; request: T }> {
  const decision = await guard.decide({ kind: 'llm', name, input: request as unknown as Record<string, unknown>, ...(context ? { context } : {}) });
  return { decision, request: inputToRun(decision, request) as T };
}

/** Whatever decides the actions of an answer: the guard itself, or its AnswerRecords (recorded with the outcome). */
export type Decider = Pick<AnswerRecords, 'decide'>;

/** A tool call the model asked for, decided as `kind: "tool"` with its parsed arguments as input. */
export function decideToolCall(decider: Decider, name: string, args: unknown, context?: Record<string, unknown>): Promise<Decision> {
  const input = args !== null && typeof args === 'object' && !Array.isArray(args) ? (args as Record<string, unknown>) : { arguments: args };
  return decider.decide({ kind: 'tool', name, input, ...(context ? { context } : {}) });
}

export function verdictOf(decision: Decision): ToolCallVerdict {
  return { effect: decision.effect, decisionId: decision.id, reasons: decision.reasons.map((r) => r.message) };
}

/** What the call did, with its token usage (also when it failed part-way) and how long it took since `started`. */
export function callOutcome(started: number, outcome: { error?: unknown; usage?: TokenUsage }): Outcome {
  const durationMs = Math.round((performance.now() - started) * 1000) / 1000;
  const usage = outcome.usage ? { usage: outcome.usage } : {};
  return outcome.error === undefined
    ? { status: 'ok', durationMs, ...usage }
    : { status: 'error', durationMs, error: String((outcome.error as Error)?.message ?? outcome.error), ...usage };
}

/** Records what the call did against the request's decision. Never throws. */
export async function recordCall(guard: AgentGuard, decision: Decision, started: number, outcome: { error?: unknown; usage?: TokenUsage }): Promise<void> {
  await guard.recordOutcome(decision, callOutcome(started, outcome)).catch(() => undefined);
}

/** The options every guarded client takes besides its SDK's own. */
export interface GuardedClientOptions {
  /** The guard every call goes through: an AgentGuard, or the options to create one (local or sidecar mode). */
  guard: AgentGuard | AgentGuardOptions;
  /** A tool call the policy does not allow: `throw` (default) AgentGuardDeniedError, `strip` it, or `annotate` it. */
  toolCalls?: ToolCallMode;
  /**
   * Put back, in the answer, the values that `vault` redaction replaced with placeholders in the request (local mode:
   * the vault never leaves the process that redacted).
   */
  restoreRedactions?: boolean;
  /** Streams hold back at least this many characters of text (the policy's longest guardrail span is the floor). */
  holdBack?: number;
  /** Put on every action the client decides, e.g. `{ project, user, session }`: rules can match it, budgets use it. */
  context?: Record<string, unknown>;
}

/** A guarded client's settings, checked. */
export interface ClientSettings {
  guard: AgentGuard;
  toolCalls: ToolCallMode;
  restoreRedactions: boolean;
  holdBack: number;
  context?: Record<string, unknown>;
}

function optionError(client: string, message: string, fix: string): AgentGuardError {
  return new AgentGuardError('GUARD_OPTIONS_INVALID', `${client}: ${message}`, { actions: [fix] });
}

/** Splits a guarded client's options into its settings and the SDK's own options; bad options throw. */
export function clientSettings<O extends GuardedClientOptions>(options: O | undefined, client: string): [ClientSettings, Omit<O, keyof GuardedClientOptions>] {
  const { guard, toolCalls, restoreRedactions, holdBack, context, ...rest } = options ?? ({} as O);
  if (!guard) {
    throw new AgentGuardError('GUARD_REQUIRED', `${client} needs a \`guard\`: an AgentGuard or its options`, {
      actions: [`new ${client}({ guard: { policy: 'agentguard/policy.yaml', agentId: 'my-agent' } }) or { guard: { sidecar: { url, token } } }`],
    });
  }
  if (toolCalls !== undefined && !['throw', 'strip', 'annotate', 'defer'].includes(toolCalls)) {
    throw optionError(client, `toolCalls is ${JSON.stringify(toolCalls)}`, 'Use "throw" (default), "strip" or "annotate".');
  }
  if (holdBack !== undefined && !(Number.isInteger(holdBack) && holdBack >= 0)) {
    throw optionError(client, `holdBack is ${JSON.stringify(holdBack)}`, 'Give a whole number of characters, 0 or more.');
  }
  const resolved = guard instanceof AgentGuard ? guard : new AgentGuard(guard);
  if (restoreRedactions && resolved.mode !== 'local') {
    throw optionError(client, 'restoreRedactions needs a guard in local mode: in sidecar mode the redacted values stay in the sidecar', 'Use a local guard ({ policy, agentId }), or leave restoreRedactions off.');
  }
  if (context !== undefined && (context === null || typeof context !== 'object' || Array.isArray(context))) {
    throw optionError(client, 'context must be an object', 'Give e.g. { project: "shop", user: "u-9", session: "s-1" }.');
  }
  checkFetchOptions((rest as { fetchOptions?: unknown }).fetchOptions, () =>
    optionError(client, 'fetchOptions sets a body or method, which would replace every request agentguard decides', 'Remove body and method from fetchOptions.'),
  );
  const settings = { guard: resolved, toolCalls: toolCalls ?? 'throw', restoreRedactions: restoreRedactions === true, holdBack: holdBack ?? 0, ...(context ? { context } : {}) };
  return [settings, rest];
}
