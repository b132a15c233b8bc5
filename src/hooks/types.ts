import type { Action } from '../core/action.js';
import type { CodingAgentId } from './agent-ids.js';

/** A tool call an agent is about to make, as one or more Actions of the common vocabulary (all must pass). */
export interface PreToolHook {
  phase: 'pre';
  /** The agent's own event name (PreToolUse, BeforeTool, beforeShellExecution, pre_run_command, …). */
  event: string;
  /** The agent's own tool name. */
  tool: string;
  actions: Action[];
  /**
   * Turns the policy's transformed action back into the agent's tool input, when the agent can rewrite a call and the
   * call maps to one action; a string says why it cannot be expressed.
   */
  rewrite?: (decided: Action) => Record<string, unknown> | string;
}

/** A tool's result the agent is about to read, as an output action (`tool_output`/`mcp_output`, `input.content`). */
export interface PostToolHook {
  phase: 'post';
  event: string;
  tool: string;
  /** Undefined when the result holds no text to check. */
  action: Action | undefined;
}

/** An event that is not a tool call or result (session start, prompt, …): answered without an opinion. */
export interface OtherHook {
  phase: 'other';
  event: string;
}

export type ParsedHook = PreToolHook | PostToolHook | OtherHook;

/** What agentguard decided about a tool call, before it is put in the agent's words. */
export type PreVerdict =
  | { kind: 'allow' }
  | { kind: 'deny'; reason: string }
  | { kind: 'ask'; reason: string }
  | { kind: 'rewrite'; toolInput: Record<string, unknown>; reason: string };

/** What agentguard decided about a tool result. */
export type PostVerdict = { kind: 'pass' } | { kind: 'block'; reason: string } | { kind: 'replace'; text: string; reason: string };

/** What the hook process prints and exits with. */
export interface HookAnswer {
  stdout: string;
  stderr: string;
  exitCode: number;
}

/** One coding agent's hook dialect: its payloads in, its answers out. */
export interface AgentAdapter {
  id: CodingAgentId;
  /** Reads a payload; throws HookPayloadError when it is not one this agent sends. */
  parse(payload: Record<string, unknown>): ParsedHook;
  /** Whether the agent can ask its user about this call itself (else agentguard's approval, with a bounded wait). */
  canAsk(hook: PreToolHook): boolean;
  answerPre(verdict: PreVerdict, hook: PreToolHook): HookAnswer;
  answerPost(verdict: PostVerdict, hook: PostToolHook): HookAnswer;
  /** No opinion: the agent goes on as it would without the hook. */
  answerNeutral(hook: ParsedHook): HookAnswer;
  /** Fail closed: the call is blocked and `message` shown (malformed payload, agentguard broken). */
  answerFailure(message: string, phase: 'pre' | 'post' | undefined): HookAnswer;
}

/** A payload an agent's hook cannot have sent: answered with a deny naming what is wrong. */
export class HookPayloadError extends Error {
  override name = 'HookPayloadError';
}

export const answer = (stdout: string, exitCode = 0, stderr = ''): HookAnswer => ({ stdout, stderr, exitCode });
export const json = (value: unknown): string => `${JSON.stringify(value)}\n`;
