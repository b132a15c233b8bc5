import type { Action, Decision } from '../../core/action.js';
import { AgentGuardError } from '../../core/errors.js';
import { redactionVaultOf } from '../../core/pipeline.js';
import type { AgentGuard } from '../agent-guard.js';
import { decideToolCall, inputToRun, verdictOf, type Decider, type ToolCallMode, type ToolCallVerdict } from './mediate.js';
import type { WindowCheck } from './stream-gate.js';
import { isPlainObject } from '../../core/plain-object.js';

/**
 * The kind of the action that decides a model's answer: `name` is the request's `<provider>.<model>`, `input.content`
 * the answer's texts (one per choice or text block). Rules match it like any action, e.g.
 * `when: { kind: llm_output, detect: { guardrail: pii, in: input.content } }` with a `redact: input.content` step.
 */
export const OUTPUT_KIND = 'llm_output';

export function outputAction(name: string, content: string[], context?: Record<string, unknown>): Action {
  return { kind: OUTPUT_KIND, name, input: { content }, ...(context ? { context } : {}) };
}

/** The texts a decision lets through: the transformed ones, which must still be one string per text given. */
function contentOf(decision: Decision, given: string[]): string[] {
  if (decision.effect !== 'transform') return given;
  const content = (decision.action.input as { content?: unknown } | undefined)?.content;
  if (!Array.isArray(content) || content.length !== given.length || !content.every((t) => typeof t === 'string')) {
    throw new AgentGuardError('OUTPUT_TRANSFORM_INVALID', `the policy's transform of ${OUTPUT_KIND} must leave input.content a list of ${given.length} strings`, {
      actions: ['Transform answers with `redact: input.content` (or `replace`) steps only.'],
    });
  }
  return content as string[];
}

/**
 * Decides a model's answer as a whole (recorded by the decider: the guard at once, AnswerRecords with the call's
 * outcome). Deny or approval throw; otherwise returns the texts to deliver (redacted when the policy transforms them).
 * An answer without text is not decided: its tool calls are.
 */
export async function decideOutput(decider: Decider, name: string, content: string[], context?: Record<string, unknown>): Promise<string[]> {
  if (content.every((t) => t === '')) return content;
  const decision = await decider.decide(outputAction(name, content, context));
  inputToRun(decision, undefined);
  return contentOf(decision, content);
}

/**
 * Checks a window of streamed text without recording it; the answer as a whole is decided at the end. A window that
 * is not allowed stops the stream: it is kept in `stopped.stoppedBy`, to be decided again and recorded.
 */
export function windowCheck(guard: AgentGuard, name: string, context?: Record<string, unknown>, stopped?: { stoppedBy?: string }): WindowCheck {
  return async (text) => {
    const { decision, holdBack } = await guard.preview(outputAction(name, [text], context));
    if (stopped && decision.effect !== 'allow' && decision.effect !== 'transform') stopped.stoppedBy = text;
    const spans = decision.findings.filter((f) => f.path === 'input.content.0').map(({ start, end }) => ({ start, end }));
    const delivered = decision.effect === 'transform' ? contentOf(decision, [text])[0]! : text;
    return { decision, text: delivered, spans, holdBack };
  };
}

/**
 * Restores, in the answer, the placeholders that `vault` redaction put in the request. The vault lives beside the
 * request's decision in this process, so this needs local mode.
 */
export function restorerOf(decision: Decision): ((text: string) => string) | undefined {
  const vault = redactionVaultOf(decision);
  return vault && vault.size > 0 ? (text) => vault.restore(text) : undefined;
}

/** What happens to one tool call the model asked for. */
export type ToolCallSettlement = { keep: false } | { keep: true; input?: unknown; verdict?: ToolCallVerdict };

/** Tool-call arguments that are not a JSON object (truncated or invalid JSON, a bare string, a list), as written. */
export class RawArguments {
  constructor(readonly text: string) {}
}

/** The field of a raw-arguments tool action that a rule sets to `true` to let such a call through. */
export const ALLOW_RAW_ARGUMENTS = 'allowRawArguments';

/**
 * The decision a tool call with raw arguments gets: the policy's own when it does not allow the call; when it does,
 * a deny unless a rule allowed raw arguments by name (set `input.allowRawArguments: true`) and left them as written.
 * Rules written for the call's fields (`input.command`) cannot see inside raw text, so an allow by tool name alone is
 * not enough.
 */
function rawArgumentsDecision(decision: Decision, name: string, raw: RawArguments): Decision {
  if (decision.effect !== 'allow' && decision.effect !== 'transform') return decision;
  const input = decision.action.input as Record<string, unknown> | undefined;
  if (input?.[ALLOW_RAW_ARGUMENTS] === true && input.rawArguments === raw.text) return decision;
  return {
    ...decision,
    effect: 'deny',
    reasons: [
      {
        effect: 'deny',
        code: 'raw_tool_arguments',
        message: `The arguments of ${name} are not a JSON object, so no rule could check them and the call is denied (a rule may accept raw arguments by setting input.${ALLOW_RAW_ARGUMENTS}: true)`,
      },
    ],
  };
}

/**
 * Decides a tool call as a `kind: "tool"` action. Allowed: kept (with the transformed input when the policy changed
 * it). Not allowed: `throw` throws AgentGuardDeniedError or ApprovalRequiredError, `strip` drops it, `annotate` keeps
 * it with the verdict attached, so the caller never receives a denied call unmarked. Arguments that are not a JSON
 * object are decided as `input: { rawArguments: "<text>" }` and denied unless a rule accepts them by name.
 */
export async function settleToolCall(decider: Decider, name: string, args: unknown, mode: ToolCallMode, context?: Record<string, unknown>): Promise<ToolCallSettlement> {
  if (mode === 'defer') return { keep: true }; // decided where it runs (see ToolCallMode)
  const raw = args instanceof RawArguments ? args : isPlainObject(args) ? undefined : new RawArguments(JSON.stringify(args) ?? String(args));
  let decision = await decideToolCall(decider, name, raw ? { rawArguments: raw.text } : args, context);
  if (raw) {
    decision = rawArgumentsDecision(decision, name, raw);
    if (decision.effect === 'allow' || decision.effect === 'transform') return { keep: true };
  }
  if (decision.effect === 'allow') return { keep: true };
  if (decision.effect === 'transform') return { keep: true, input: decision.action.input };
  if (mode === 'throw') inputToRun(decision, undefined);
  return mode === 'annotate' ? { keep: true, verdict: verdictOf(decision) } : { keep: false };
}

/** Arguments of a tool call as the model wrote them: the parsed JSON object, or RawArguments when they are not one. */
export function parseArguments(text: string): Record<string, unknown> | RawArguments {
  if (text === '') return {};
  try {
    const parsed: unknown = JSON.parse(text);
    return isPlainObject(parsed) ? parsed : new RawArguments(text);
  } catch {
    return new RawArguments(text);
  }
}
