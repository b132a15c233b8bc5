/**
 * Token counts where the provider has not reported them: an upper bound of a request's prompt (to reserve against a
 * budget before the call) and an estimate of a stream's output (when it was cut before the usage chunk).
 *
 * OpenAI models are counted with their own tokenizer (gpt-tokenizer: o200k_base, or cl100k_base for gpt-4 and
 * gpt-3.5). Claude's tokenizer is not public, so a prompt's bound is its UTF-8 size in bytes (byte-level BPE never
 * makes more tokens than bytes) and an output estimate is one token per 3.5 characters, Anthropic's rule of thumb
 * for English text.
 */
import { Buffer } from 'node:buffer';

type Counter = (text: string) => number;
const counters = new Map<string, Promise<Counter>>();

/** The tokenizer of an OpenAI model, loaded on first use (the encodings are large). */
function openAiCounter(model: string): Promise<Counter> {
  const encoding = /^(gpt-4(?!o|\.\d)|gpt-3\.5)/.test(model) ? 'cl100k_base' : 'o200k_base';
  let counter = counters.get(encoding);
  if (!counter) {
    counter = (encoding === 'cl100k_base' ? import('gpt-tokenizer/encoding/cl100k_base') : import('gpt-tokenizer/encoding/o200k_base')).then(
      (m) => (text: string) => m.countTokens(text),
    );
    counters.set(encoding, counter);
  }
  return counter;
}

const usesOpenAiTokenizer = (provider: string) => provider === 'openai' || provider === 'azure';

/** Tokens the chat format adds around each message and to prime the answer (OpenAI's documented counting). */
const PER_MESSAGE = 4;
const PER_REQUEST = 3;

/**
 * At least as many tokens as the request's prompt can bill: the request serialised as JSON holds every message,
 * system prompt, tool definition and tool result, plus syntax that costs more than the chat format's own markers.
 */
export async function promptTokenBound(provider: string, model: string, request: Record<string, unknown> | undefined): Promise<number> {
  const text = JSON.stringify(request ?? {});
  if (!usesOpenAiTokenizer(provider)) return Buffer.byteLength(text, 'utf8');
  const count = await openAiCounter(model);
  const messages = Array.isArray(request?.messages) ? request.messages.length : Array.isArray(request?.input) ? request.input.length : 1;
  return count(text) + PER_MESSAGE * messages + PER_REQUEST;
}

/** An estimate of the tokens of text the model wrote (for a stream cut before it reported usage). */
export async function estimateTextTokens(provider: string, model: string, text: string): Promise<number> {
  if (text === '') return 0;
  if (usesOpenAiTokenizer(provider)) return (await openAiCounter(model))(text);
  return Math.ceil(text.length / 3.5);
}
