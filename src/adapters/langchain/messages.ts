import { canonicalJson } from '../../core/canonical-json.js';
import { AgentGuardError } from '../../core/errors.js';
import { isPlainObject } from '../../core/plain-object.js';

/** The part of a LangChain message the middleware reads (BaseMessage of @langchain/core 1.x). */
export interface MessageLike {
  readonly type?: string;
  _getType?: () => string;
  content: unknown;
  name?: string;
  tool_calls?: Array<{ id?: string; name: string; args: unknown }>;
  tool_call_id?: string;
  lc_kwargs?: Record<string, unknown>;
}

const ROLES: Record<string, string> = { human: 'user', ai: 'assistant', system: 'system', tool: 'tool', developer: 'developer', function: 'function', generic: 'user' };

function typeOf(message: MessageLike): string {
  return message.type ?? message._getType?.() ?? 'generic';
}

/** A message's content as the policy sees it: a string as it is; of a list of blocks, text blocks as `{ type, text }`. */
function contentOf(content: unknown): unknown {
  if (!Array.isArray(content)) return content;
  return content.map((block) => (isPlainObject(block) && block.type === 'text' && typeof block.text === 'string' ? { type: 'text', text: block.text } : block));
}

/**
 * One message as the `messages` of an OpenAI-style chat request, so the rules written for the guarded clients
 * (`detect: { in: input.messages }`, `redact: input.messages`) apply to LangChain agents unchanged.
 */
export function wireMessage(message: MessageLike): Record<string, unknown> {
  const role = ROLES[typeOf(message)] ?? typeOf(message);
  const out: Record<string, unknown> = { role, content: contentOf(message.content) };
  if (message.name) out.name = message.name;
  if (role === 'tool' && message.tool_call_id) out.tool_call_id = message.tool_call_id;
  if (role === 'assistant' && message.tool_calls?.length) {
    out.tool_calls = message.tool_calls.map((call) => ({ id: call.id ?? null, type: 'function', function: { name: call.name, arguments: JSON.stringify(call.args ?? {}) } }));
  }
  return out;
}

/** A copy of a message with other content (messages are class instances: the copy keeps the class and every field). */
function withContent<M extends MessageLike>(message: M, content: unknown): M {
  const copy = Object.assign(Object.create(Object.getPrototypeOf(message) as object) as M, message, { content });
  if (message.lc_kwargs) copy.lc_kwargs = { ...message.lc_kwargs, content };
  return copy;
}

/** The content the decision gives a message, written back in the message's own shape (text blocks rewritten in place). */
function decidedContent(original: unknown, decided: unknown): unknown {
  if (!Array.isArray(original) || !Array.isArray(decided) || decided.length !== original.length) return decided;
  return original.map((block, i) => {
    const next = decided[i];
    if (isPlainObject(block) && block.type === 'text' && isPlainObject(next) && typeof next.text === 'string') return block.text === next.text ? block : { ...block, text: next.text };
    return block;
  });
}

/**
 * The messages as the policy transformed them. Only message content can be changed this way (a `redact` or
 * `replace` step): any other change the policy made cannot be expressed in a LangChain request, so it is refused
 * rather than sent differently from what was decided.
 */
export function transformedMessages<M extends MessageLike>(messages: readonly M[], decided: unknown, rebuild: (messages: M[]) => unknown, expected: unknown): M[] {
  const wire = isPlainObject(decided) && Array.isArray(decided.messages) ? decided.messages : undefined;
  if (!wire || wire.length !== messages.length) throw shapeError('it changed the list of messages');
  const out = messages.map((message, i) => {
    const next = (wire[i] as Record<string, unknown> | undefined)?.content;
    return canonicalJson(contentOf(message.content)) === canonicalJson(next) ? message : withContent(message, decidedContent(message.content, next));
  });
  if (canonicalJson(rebuild(out)) !== canonicalJson(expected)) throw shapeError('it changed more than the text of messages');
  return out;
}

function shapeError(what: string): AgentGuardError {
  return new AgentGuardError('TRANSFORM_SHAPE', `The policy's transform of the model request cannot be applied to a LangChain agent's request (${what}), so the request was not sent`, {
    actions: ['Transform model requests with `redact` or `replace` steps on input.messages only.'],
  });
}

/** The text of a message's content: a string, or its text blocks joined. */
export function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content.map((block) => (isPlainObject(block) && block.type === 'text' && typeof block.text === 'string' ? block.text : '')).join('');
}

/**
 * Puts checked text back into an answer's or result's content. A string is replaced; for a list of blocks, the text
 * of the text blocks is given in one piece, so the first text block holds it and the others are emptied.
 */
export function replaceText(content: unknown, text: string): unknown {
  if (!Array.isArray(content)) return text;
  let first = true;
  return content.map((block) => {
    if (!(isPlainObject(block) && block.type === 'text')) return block;
    const next = first ? text : '';
    first = false;
    return { ...block, text: next };
  });
}

/** Replaces a message's content in place (for a message this middleware owns: the model's answer, a tool's result). */
export function setContent(message: MessageLike, content: unknown): void {
  message.content = content;
  if (message.lc_kwargs) message.lc_kwargs.content = content;
}
