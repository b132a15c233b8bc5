import { AgentGuardError } from '../../core/errors.js';
import { isPlainObject } from '../../core/plain-object.js';
import type { CallOptions, LanguageModel } from './types.js';

/**
 * `<provider>.<model>`: the provider family without the API suffix (`openai.responses` → `openai`), so the price
 * catalog and budgets find the model as they do for the guarded clients.
 */
export function actionName(model: LanguageModel): string {
  const family = String(model.provider ?? 'unknown').split('.')[0] || 'unknown';
  return `${family}.${model.modelId}`;
}

const FILE_PARTS = new Set(['file', 'reasoning-file']);

/** A file part as policies see it: its media type and size, not its bytes (binary data is no text to check). */
function fileView(part: Record<string, unknown>): Record<string, unknown> {
  const data = part.data as { type?: string; data?: unknown; url?: unknown } | undefined;
  const view = data?.type === 'url' ? { type: 'url', url: String(data.url) } : { type: 'data', bytes: byteLength(data?.data) };
  return { ...part, data: view };
}

function byteLength(data: unknown): number {
  if (data instanceof Uint8Array) return data.byteLength;
  return typeof data === 'string' ? data.length : 0;
}

/** The prompt as plain JSON: every message, every part (system, user, assistant, tool results), files by size. */
function promptView(prompt: CallOptions['prompt']): unknown[] {
  return prompt.map((message) => {
    const content = Array.isArray(message.content)
      ? message.content.map((part) => (FILE_PARTS.has((part as { type: string }).type) ? fileView(part as unknown as Record<string, unknown>) : part))
      : message.content;
    return JSON.parse(JSON.stringify({ ...message, content })) as unknown;
  });
}

/** Names as the OpenAI-style request fields policies already match (`input.max_tokens`, `input.messages`). */
const FIELDS: Array<[keyof CallOptions, string]> = [
  ['maxOutputTokens', 'max_tokens'],
  ['temperature', 'temperature'],
  ['topP', 'top_p'],
  ['topK', 'top_k'],
  ['presencePenalty', 'presence_penalty'],
  ['frequencyPenalty', 'frequency_penalty'],
  ['stopSequences', 'stop'],
  ['seed', 'seed'],
  ['reasoning', 'reasoning'],
];

/**
 * The model request as a `kind: "llm"` action's input: `model`, `messages` (the whole prompt), the sampling fields
 * under their OpenAI names, `tools` (type, name, description) and `tool_choice`. Headers, provider options and the
 * abort signal are not part of it.
 */
export function requestInput(params: CallOptions, model: LanguageModel): Record<string, unknown> {
  const input: Record<string, unknown> = { model: model.modelId, messages: promptView(params.prompt) };
  for (const [from, to] of FIELDS) if (params[from] !== undefined) input[to] = params[from];
  if (params.responseFormat) input.response_format = JSON.parse(JSON.stringify(params.responseFormat));
  if (params.tools) input.tools = params.tools.map((t) => ({ type: t.type, name: t.name, ...('description' in t && t.description ? { description: t.description } : {}) }));
  if (params.toolChoice) input.tool_choice = JSON.parse(JSON.stringify(params.toolChoice));
  return input;
}

function shapeError(what: string): AgentGuardError {
  return new AgentGuardError('TRANSFORM_SHAPE', `the policy's transform of the model request changed ${what}, which the AI SDK cannot send, so the request was not sent`, {
    actions: ['Transform model requests with redact, replace, clamp or set steps on fields they already have.'],
  });
}

/** Puts the original bytes back into file parts the transformed messages kept in place. */
function withFiles(messages: unknown, original: CallOptions['prompt']): CallOptions['prompt'] {
  if (!Array.isArray(messages) || messages.length !== original.length) throw shapeError('the number of messages');
  return messages.map((message, i) => {
    if (!isPlainObject(message) || message.role !== original[i]!.role) throw shapeError(`message ${i}`);
    const before = original[i]!.content;
    if (!Array.isArray(message.content) || !Array.isArray(before)) return message;
    const content = message.content.map((part, j) => {
      const was = before[j] as unknown as Record<string, unknown> | undefined;
      if (!isPlainObject(part) || !FILE_PARTS.has(String(part.type))) return part;
      if (!was || was.type !== part.type) throw shapeError(`a file in message ${i}`);
      return { ...part, data: was.data };
    });
    return { ...message, content };
  }) as CallOptions['prompt'];
}

/** The request as it may be sent after a transform: the decided messages and sampling fields over the original. */
export function requestFromInput(input: Record<string, unknown>, params: CallOptions): CallOptions {
  const next: Record<string, unknown> = { ...params, prompt: withFiles(input.messages, params.prompt) };
  for (const [to, from] of FIELDS) {
    if (input[from] === undefined) delete next[to];
    else next[to] = input[from];
  }
  if (params.tools) {
    const kept = new Set(Array.isArray(input.tools) ? input.tools.map((t) => (isPlainObject(t) ? t.name : undefined)) : []);
    next.tools = params.tools.filter((t) => kept.has(t.name));
  }
  return next as CallOptions;
}
