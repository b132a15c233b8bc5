import type { Message, RawMessageStreamEvent, Usage } from '@anthropic-ai/sdk/resources/messages';
import type { TokenUsage } from '../../core/cost/types.js';
import type { CallContext } from './guarded-call.js';
import { decideOutput, parseArguments, settleToolCall, windowCheck } from './output.js';
import { StreamGate, type TextPart } from './stream-gate.js';

/** Token counts by kind: Anthropic's input_tokens exclude cache reads and writes, which are billed apart. */
export function anthropicUsage(message: { usage?: Partial<Usage> | null; model?: string }): TokenUsage | undefined {
  const u = message.usage;
  if (!u) return undefined;
  return {
    ...(message.model ? { model: message.model } : {}),
    inputTokens: u.input_tokens ?? 0,
    outputTokens: u.output_tokens ?? 0,
    cacheReadInputTokens: u.cache_read_input_tokens ?? 0,
    cacheCreationInputTokens: u.cache_creation_input_tokens ?? 0,
    ...(u.cache_creation?.ephemeral_1h_input_tokens ? { cacheCreation1hInputTokens: u.cache_creation.ephemeral_1h_input_tokens } : {}),
  };
}

/** A whole message: its text blocks through the output policy, then every tool_use block decided. */
export async function checkMessage(message: Message, ctx: CallContext): Promise<void> {
  if (!Array.isArray(message.content)) return;
  const textBlocks = message.content.filter((b) => b.type === 'text');
  const texts = await decideOutput(ctx.decider, ctx.name, textBlocks.map((b) => b.text), ctx.settings.context);
  textBlocks.forEach((block, i) => {
    const text = ctx.restore ? ctx.restore(texts[i]!) : texts[i]!;
    if (text === block.text) return;
    block.text = text;
    delete (block as { citations?: unknown }).citations; // citations quote the text that was replaced
  });
  const kept: Message['content'] = [];
  for (const block of message.content) {
    if (block.type !== 'tool_use') {
      kept.push(block);
      continue;
    }
    const settled = await settleToolCall(ctx.decider, block.name, block.input, ctx.settings.toolCalls, ctx.settings.context);
    if (!settled.keep) continue;
    if (settled.input !== undefined) block.input = settled.input;
    kept.push(settled.verdict ? Object.assign(block, { agentguard: settled.verdict }) : block);
  }
  message.content = kept;
}

interface StreamedToolUse {
  key: string;
  name: string;
  json: string;
  start: RawMessageStreamEvent & { type: 'content_block_start' };
  deltas: Array<{ partial_json: string }>;
}

/**
 * A streamed message through the output gate: text (and thinking) deltas are held back only as far as the policy's
 * longest span; a tool_use block is held from its start to its stop, then decided. A stripped block is removed and
 * the indexes of later blocks are renumbered, so `messages.stream()` accumulates a consistent message.
 */
export async function* gateMessageStream(source: AsyncIterable<RawMessageStreamEvent>, ctx: CallContext): AsyncGenerator<RawMessageStreamEvent> {
  const { guard, toolCalls: mode, holdBack } = ctx.settings;
  const gate = new StreamGate<RawMessageStreamEvent>(windowCheck(guard, ctx.name, ctx.settings.context, ctx), ctx.restore, holdBack);
  ctx.written = () => [...gate.texts().values()].join('');
  const tools = new Map<number, StreamedToolUse>();
  const stripped: number[] = [];
  const textChannels: string[] = [];
  let usage: Partial<Usage> = {};
  let model: string | undefined;

  for await (const event of source) {
    const parts: TextPart[] = [];
    const blockers: string[] = [];
    if (event.type === 'message_start') {
      model = event.message.model;
      usage = { ...event.message.usage };
    } else if (event.type === 'message_delta' && event.usage) {
      for (const [k, v] of Object.entries(event.usage)) if (v !== null && v !== undefined) (usage as Record<string, unknown>)[k] = v;
    } else if (event.type === 'content_block_start') {
      const block = event.content_block;
      if (block.type === 'tool_use') {
        const key = `tool:${event.index}`;
        tools.set(event.index, { key, name: block.name, json: '', start: event, deltas: [] });
        blockers.push(key);
      } else if (block.type === 'text') {
        textChannels.push(String(event.index));
        parts.push({ channel: String(event.index), text: block.text, rewrite: (text) => (block.text = text) });
      }
    } else if (event.type === 'content_block_delta') {
      const delta = event.delta;
      const tool = tools.get(event.index);
      if (tool) {
        if (delta.type === 'input_json_delta') {
          tool.json += delta.partial_json;
          tool.deltas.push(delta);
        }
        blockers.push(tool.key);
      } else if (delta.type === 'text_delta') {
        parts.push({ channel: String(event.index), text: delta.text, rewrite: (text) => (delta.text = text) });
      } else if (delta.type === 'thinking_delta') {
        parts.push({ channel: `thinking:${event.index}`, text: delta.thinking, rewrite: (text) => (delta.thinking = text) });
      }
    } else if (event.type === 'content_block_stop' && tools.has(event.index)) {
      blockers.push(tools.get(event.index)!.key);
    }
    gate.add(event, parts, blockers);
    if (event.type === 'content_block_stop' && tools.has(event.index)) {
      const tool = tools.get(event.index)!;
      const settled = await settleToolCall(guard, tool.name, parseArguments(tool.json), mode, ctx.settings.context);
      if (!settled.keep) stripped.push(event.index);
      if (settled.keep && settled.input !== undefined) {
        tool.deltas.forEach((d, i) => (d.partial_json = i === 0 ? JSON.stringify(settled.input) : ''));
        if (tool.deltas.length === 0) tool.start.content_block = { ...tool.start.content_block, input: settled.input } as typeof tool.start.content_block;
      }
      if (settled.keep && settled.verdict) Object.assign(tool.start.content_block, { agentguard: settled.verdict });
      gate.unblock(tool.key, !settled.keep);
    }
    yield* renumbered(await gate.release(), stripped);
  }
  ctx.usage = anthropicUsage({ usage, model });
  const texts = gate.texts();
  await decideOutput(guard, ctx.name, textChannels.map((c) => texts.get(c) ?? ''), ctx.settings.context);
  yield* renumbered(await gate.release(true), stripped);
}

/** Block indexes as the caller sees them once stripped blocks are gone. */
function renumbered(events: RawMessageStreamEvent[], stripped: number[]): RawMessageStreamEvent[] {
  if (stripped.length === 0) return events;
  for (const event of events) {
    if ('index' in event && typeof event.index === 'number') {
      const original = event.index;
      event.index = original - stripped.filter((i) => i < original).length;
    }
  }
  return events;
}
