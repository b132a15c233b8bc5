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

function contextOf(server: string, session: McpSessionInfo): Record<string, unknown> {
  return { mcp: { server, transport: session.transport }, session: { id: session.id } };
}

export function callAction(server: string, tool: string, args: Record<string, unknown>, session: McpSessionInfo): Action {
  return { kind: CALL_KIND, name: `${server}.${tool}`, input: args, context: contextOf(server, session) };
}

/** One text of a tool result the policy may check and rewrite. */
interface TextSlot {
  text: string;
  put(result: Record<string, unknown>, text: string): boolean;
}

/** The texts of a CallToolResult, in order, each with how to write a rewritten text back into a copy of the result. */
function textSlots(result: Record<string, unknown>): TextSlot[] {
  const slots: TextSlot[] = [];
  const content = Array.isArray(result.content) ? result.content : [];
  content.forEach((block, i) => {
    if (!isPlainObject(block)) return;
    if (block.type === 'text' && typeof block.text === 'string') {
      slots.push({ text: block.text, put: (r, text) => ((((r.content as unknown[])[i] as Record<string, unknown>).text = text), true) });
    } else if (block.type === 'resource' && isPlainObject(block.resource) && typeof block.resource.text === 'string') {
      slots.push({
        text: block.resource.text,
        put: (r, text) => ((((((r.content as unknown[])[i] as Record<string, unknown>).resource) as Record<string, unknown>).text = text), true),
      });
    }
  });
  if (isPlainObject(result.structuredContent)) {
    slots.push({
      text: JSON.stringify(result.structuredContent),
      put: (r, text) => {
        try {
          const parsed: unknown = JSON.parse(text);
          if (!isPlainObject(parsed)) return false;
          r.structuredContent = parsed;
          return true;
        } catch {
          return false;
        }
      },
    });
  }
  return slots;
}

export interface ResultCheck {
  /** The action to decide, or undefined when the result has no text to check. */
  action: Action | undefined;
  /** The result to deliver under a decision that lets it through (allow: the result as given; transform: rewritten). */
  apply(decision: Decision): { ok: true; result: Record<string, unknown> } | { ok: false; problem: string };
}

export function resultCheck(server: string, tool: string, result: Record<string, unknown>, session: McpSessionInfo): ResultCheck {
  const slots = textSlots(result);
  const action: Action | undefined =
    slots.length === 0 ? undefined : { kind: RESULT_KIND, name: `${server}.${tool}`, input: { content: slots.map((s) => s.text) }, context: contextOf(server, session) };
  return {
    action,
    apply(decision) {
      if (decision.effect !== 'transform') return { ok: true, result };
      const content = (decision.action.input as { content?: unknown } | undefined)?.content;
      if (!Array.isArray(content) || content.length !== slots.length || !content.every((t) => typeof t === 'string')) {
        return { ok: false, problem: `the policy's transform of ${RESULT_KIND} must leave input.content a list of ${slots.length} strings (use redact or replace steps on input.content)` };
      }
      const copy = structuredClone(result);
      for (let i = 0; i < slots.length; i++) {
        if (content[i] !== slots[i]!.text && !slots[i]!.put(copy, content[i] as string)) {
          return { ok: false, problem: `the policy's transform made the structured content of the result invalid JSON` };
        }
      }
      return { ok: true, result: copy };
    },
  };
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
