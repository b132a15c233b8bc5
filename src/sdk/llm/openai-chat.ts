import type { ChatCompletion, ChatCompletionChunk, ChatCompletionMessageToolCall } from 'openai/resources/chat/completions';
import type { TokenUsage } from '../../core/cost/types.js';
import type { CallContext } from './guarded-call.js';
import { decideOutput, parseArguments, settleToolCall, windowCheck } from './output.js';
import { StreamGate, type TextPart } from './stream-gate.js';

/** Token counts by kind from OpenAI's figures: the prompt count includes the cached tokens, which are billed apart. */
export function openAiTokens(model: string, prompt: number, cached: number, output: number, reasoning: number): TokenUsage {
  return { model, inputTokens: Math.max(0, prompt - cached), outputTokens: output, cacheReadInputTokens: cached, reasoningTokens: reasoning };
}

/** Usage of a chat completion (or its last stream chunk). */
export function openAiUsage(completion: Pick<ChatCompletion, 'usage' | 'model'>): TokenUsage | undefined {
  const u = completion.usage;
  return u ? openAiTokens(completion.model, u.prompt_tokens, u.prompt_tokens_details?.cached_tokens ?? 0, u.completion_tokens, u.completion_tokens_details?.reasoning_tokens ?? 0) : undefined;
}

/** A whole completion: every choice's text through the output policy, then every tool call decided. */
export async function checkCompletion(completion: ChatCompletion, ctx: CallContext): Promise<void> {
  const choices = completion.choices ?? [];
  const texts = await decideOutput(ctx.decider, ctx.name, choices.map((c) => c.message?.content ?? ''), ctx.settings.context);
  choices.forEach((choice, i) => {
    if (typeof choice.message?.content !== 'string') return;
    const text = ctx.restore ? ctx.restore(texts[i]!) : texts[i]!;
    if (text !== choice.message.content) {
      choice.message.content = text;
      choice.logprobs = null; // the token log-probabilities spell out the text that was replaced
    }
  });
  for (const choice of choices) {
    const calls = choice.message?.tool_calls;
    if (!calls || calls.length === 0) continue;
    const kept: ChatCompletionMessageToolCall[] = [];
    for (const call of calls) {
      if (call.type !== 'function') {
        kept.push(call);
        continue;
      }
      const settled = await settleToolCall(ctx.decider, call.function.name, parseArguments(call.function.arguments), ctx.settings.toolCalls, ctx.settings.context);
      if (!settled.keep) continue;
      if (settled.input !== undefined) call.function.arguments = JSON.stringify(settled.input);
      if (settled.verdict) Object.assign(call, { agentguard: settled.verdict });
      kept.push(call);
    }
    if (kept.length > 0) choice.message.tool_calls = kept;
    else delete choice.message.tool_calls;
  }
}

type DeltaToolCall = NonNullable<ChatCompletionChunk.Choice.Delta['tool_calls']>[number];

interface StreamedToolCall {
  key: string;
  name: string;
  args: string;
  fragments: Array<{ delta: ChatCompletionChunk.Choice.Delta; fragment: DeltaToolCall }>;
  settled: boolean;
}

/** Asks for usage in the stream's last chunk when the caller did not; that chunk is then hidden from them. */
export function withStreamUsage(request: Record<string, unknown>): Record<string, unknown> {
  const options = request.stream_options as { include_usage?: boolean } | undefined;
  if (options?.include_usage === true) return request;
  return { ...request, stream_options: { ...(options ?? {}), include_usage: true } };
}

/**
 * A streamed completion through the output gate: text per choice is held back only as far as the policy's longest
 * span, tool-call fragments are held until the call is decided (at the choice's finish), and usage is captured.
 */
export async function* gateChatStream(source: AsyncIterable<ChatCompletionChunk>, ctx: CallContext, callerWantsUsage: boolean): AsyncGenerator<ChatCompletionChunk> {
  const { guard, toolCalls: mode, holdBack } = ctx.settings;
  const gate = new StreamGate<ChatCompletionChunk>(windowCheck(guard, ctx.name, ctx.settings.context, ctx), ctx.restore, holdBack);
  ctx.written = () => [...gate.texts().values()].join('');
  const calls = new Map<string, StreamedToolCall>();
  const settle = async (call: StreamedToolCall): Promise<void> => {
    call.settled = true;
    const settled = await settleToolCall(guard, call.name, parseArguments(call.args), mode, ctx.settings.context);
    const [first, ...rest] = call.fragments;
    if (!settled.keep) {
      for (const { delta, fragment } of call.fragments) {
        delta.tool_calls = delta.tool_calls?.filter((f) => f !== fragment);
        if (delta.tool_calls?.length === 0) delete delta.tool_calls;
      }
    } else if (first) {
      if (settled.input !== undefined) {
        first.fragment.function = { ...first.fragment.function, arguments: JSON.stringify(settled.input) };
        for (const { fragment } of rest) if (fragment.function) fragment.function.arguments = '';
      }
      if (settled.verdict) Object.assign(first.fragment, { agentguard: settled.verdict });
    }
    gate.unblock(call.key);
  };

  for await (const chunk of source) {
    if (chunk.usage) ctx.usage = openAiUsage(chunk as unknown as ChatCompletion);
    if (!callerWantsUsage) {
      if (chunk.usage && chunk.choices.length === 0) continue;
      delete chunk.usage;
    }
    const parts: TextPart[] = [];
    const blockers: string[] = [];
    const finished: number[] = [];
    for (const choice of chunk.choices ?? []) {
      const delta = choice.delta ?? {};
      if (typeof delta.content === 'string' && delta.content !== '') {
        parts.push({
          channel: String(choice.index),
          text: delta.content,
          rewrite: (text) => {
            delta.content = text;
            choice.logprobs = null;
          },
        });
      }
      for (const fragment of delta.tool_calls ?? []) {
        const key = `${choice.index}:${fragment.index}`;
        let call = calls.get(key);
        if (!call) calls.set(key, (call = { key, name: '', args: '', fragments: [], settled: false }));
        call.name += fragment.function?.name ?? '';
        call.args += fragment.function?.arguments ?? '';
        call.fragments.push({ delta, fragment });
        blockers.push(key);
      }
      if (choice.finish_reason) finished.push(choice.index);
    }
    gate.add(chunk, parts, blockers);
    for (const call of calls.values()) {
      if (!call.settled && finished.some((index) => call.key.startsWith(`${index}:`))) await settle(call);
    }
    yield* await gate.release();
  }
  for (const call of calls.values()) if (!call.settled) await settle(call);
  await decideOutput(guard, ctx.name, [...gate.texts().values()], ctx.settings.context);
  yield* await gate.release(true);
}
