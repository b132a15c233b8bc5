import type { Action, Decision } from '../core/action.js';
import { isPlainObject } from '../core/plain-object.js';
import type { McpSessionInfo } from './hooks.js';

/** The kind of the action a tools/call is decided as; `name` is `<server>.<tool>`, `input` the call's arguments. */
export const CALL_KIND = 'mcp';
/**
 * The kind of the action a tool result is decided as, like `llm_output` for model answers: `input.content` holds the
 * result's texts (text blocks, embedded text resources, then structuredContent as JSON), so a rule can
 * `detect: { guardrail: injection, in: input.content }` or `redact: input.content`.
 */
export const RESULT_KIND = 'mcp_output';
/**
 * A server's `sampling/createMessage` request asks the client's model for an answer: it is an LLM call like any other
 * (`llm`, input the request's params, so input guardrails read `input.messages` and `input.systemPrompt`), named
 * `<server>.sampling/createMessage`. The model's answer, on its way back to the server, is decided as `llm_output`.
 */
export const SAMPLING_METHOD = 'sampling/createMessage';
export const SAMPLING_KIND = 'llm';
export const SAMPLING_RESULT_KIND = 'llm_output';

function contextOf(server: string, session: McpSessionInfo): Record<string, unknown> {
  return { mcp: { server, transport: session.transport }, session: { id: session.taintId ?? session.id } };
}

export function callAction(server: string, tool: string, args: Record<string, unknown>, session: McpSessionInfo): Action {
  return { kind: CALL_KIND, name: `${server}.${tool}`, input: args, context: contextOf(server, session) };
}

export function samplingAction(server: string, params: Record<string, unknown>, session: McpSessionInfo): Action {
  return { kind: SAMPLING_KIND, name: `${server}.${SAMPLING_METHOD}`, input: params, context: contextOf(server, session) };
}

/** One text of a result the policy may check and rewrite: where it sits in the result, and whether it is JSON. */
interface TextSlot {
  text: string;
  path: Array<string | number>;
  json?: boolean;
}

/** The text of one content block (a `text` block, or an embedded `resource` with text), with its path. */
function blockSlot(block: unknown, path: Array<string | number>): TextSlot | undefined {
  if (!isPlainObject(block)) return undefined;
  if (block.type === 'text' && typeof block.text === 'string') return { text: block.text, path: [...path, 'text'] };
  if (block.type === 'resource' && isPlainObject(block.resource) && typeof block.resource.text === 'string') {
    return { text: block.resource.text, path: [...path, 'resource', 'text'] };
  }
  return undefined;
}

const listOf = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);
const present = <T>(value: T | undefined): value is T => value !== undefined;

/** CallToolResult: text blocks and embedded text resources in order, then structuredContent as JSON. */
function toolResultSlots(result: Record<string, unknown>): TextSlot[] {
  const slots = listOf(result.content).map((block, i) => blockSlot(block, ['content', i])).filter(present);
  if (isPlainObject(result.structuredContent)) slots.push({ text: JSON.stringify(result.structuredContent), path: ['structuredContent'], json: true });
  return slots;
}

/** CreateMessageResult: its content block, or each of its blocks (a list since MCP 2025-11-25). */
function samplingSlots(result: Record<string, unknown>): TextSlot[] {
  if (Array.isArray(result.content)) return result.content.map((block, i) => blockSlot(block, ['content', i])).filter(present);
  return [blockSlot(result.content, ['content'])].filter(present);
}

/** ReadResourceResult: the text of each of its contents. */
function resourceSlots(result: Record<string, unknown>): TextSlot[] {
  return listOf(result.contents)
    .map((item, i) => (isPlainObject(item) && typeof item.text === 'string' ? { text: item.text, path: ['contents', i, 'text'] } : undefined))
    .filter(present);
}

/** GetPromptResult: the text of each message's content block. */
function promptSlots(result: Record<string, unknown>): TextSlot[] {
  return listOf(result.messages)
    .map((message, i) => (isPlainObject(message) ? blockSlot(message.content, ['messages', i, 'content']) : undefined))
    .filter(present);
}

/** Writes `text` at the slot's path of `copy`; false when a JSON slot's new text is not a JSON object. */
function put(copy: Record<string, unknown>, slot: TextSlot, text: string): boolean {
  let value: unknown = text;
  if (slot.json) {
    try {
      value = JSON.parse(text);
    } catch {
      return false;
    }
    if (!isPlainObject(value)) return false;
  }
  let node = copy as Record<string | number, unknown>;
  for (const key of slot.path.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
  node[slot.path[slot.path.length - 1]!] = value;
  return true;
}

export interface ResultCheck {
  /** The action to decide, or undefined when the result has no text to check. */
  action: Action | undefined;
  /** The result to deliver under a decision that lets it through (allow: the result as given; transform: rewritten). */
  apply(decision: Decision): { ok: true; result: Record<string, unknown> } | { ok: false; problem: string };
}

function check(name: string, slots: TextSlot[], result: Record<string, unknown>, extra: Record<string, unknown>, context: Record<string, unknown>, kind = RESULT_KIND): ResultCheck {
  const action: Action | undefined = slots.length === 0 ? undefined : { kind, name, input: { content: slots.map((s) => s.text), ...extra }, context };
  return {
    action,
    apply(decision) {
      if (decision.effect !== 'transform') return { ok: true, result };
      const content = (decision.action.input as { content?: unknown } | undefined)?.content;
      if (!Array.isArray(content) || content.length !== slots.length || !content.every((t) => typeof t === 'string')) {
        return { ok: false, problem: `the policy's transform of ${kind} must leave input.content a list of ${slots.length} strings (use redact or replace steps on input.content)` };
      }
      const copy = structuredClone(result);
      for (let i = 0; i < slots.length; i++) {
        if (content[i] !== slots[i]!.text && !put(copy, slots[i]!, content[i] as string)) {
          return { ok: false, problem: `the policy's transform made the structured content of the result invalid JSON` };
        }
      }
      return { ok: true, result: copy };
    },
  };
}

/** A tools/call result, decided as `mcp_output` named `<server>.<tool>`. */
export function resultCheck(server: string, tool: string, result: Record<string, unknown>, session: McpSessionInfo): ResultCheck {
  return check(`${server}.${tool}`, toolResultSlots(result), result, {}, contextOf(server, session));
}

/**
 * A resources/read result, decided as `mcp_output` named `<server>.resources/read` with `input.uri` (tool names cannot
 * hold a slash, so no tool's name is the same).
 */
export function resourceCheck(server: string, uri: string, result: Record<string, unknown>, session: McpSessionInfo): ResultCheck {
  return check(`${server}.resources/read`, resourceSlots(result), result, { uri }, contextOf(server, session));
}

/** A prompts/get result, decided as `mcp_output` named `<server>.prompts/get` with `input.prompt` (the prompt's name). */
export function promptCheck(server: string, prompt: string, result: Record<string, unknown>, session: McpSessionInfo): ResultCheck {
  return check(`${server}.prompts/get`, promptSlots(result), result, { prompt }, contextOf(server, session));
}

/** The client model's answer to a server's sampling request, decided as `llm_output` named `<server>.sampling/createMessage`. */
export function samplingResultCheck(server: string, result: Record<string, unknown>, session: McpSessionInfo): ResultCheck {
  return check(`${server}.${SAMPLING_METHOD}`, samplingSlots(result), result, {}, contextOf(server, session), SAMPLING_RESULT_KIND);
}

/** What the client receives instead of a call or result the policy did not let through: a tool error the model reads. */
export function refusalResult(text: string): Record<string, unknown> {
  return { content: [{ type: 'text', text }], isError: true };
}

/** The reasons of a decision as one sentence for the model. */
export function reasonText(decision: Decision): string {
  const messages = decision.reasons.map((r) => r.message).filter((m) => m !== '');
  return messages.length > 0 ? messages.join('; ') : `effect ${decision.effect}`;
}
