import type { Response, ResponseStreamEvent } from 'openai/resources/responses/responses';
import type { TokenUsage } from '../../core/cost/types.js';
import type { CallContext } from './guarded-call.js';
import { openAiTokens } from './openai-chat.js';
import { decideOutput, parseArguments, settleToolCall, windowCheck, type ToolCallSettlement } from './output.js';
import { StreamGate, type TextPart } from './stream-gate.js';

/** Usage of a response: input_tokens include the cached ones, which are billed apart. */
export function responsesUsage(response: Pick<Response, 'usage' | 'model'>): TokenUsage | undefined {
  const u = response.usage;
  return u ? openAiTokens(response.model, u.input_tokens, u.input_tokens_details?.cached_tokens ?? 0, u.output_tokens, u.output_tokens_details?.reasoning_tokens ?? 0) : undefined;
}

type OutputItem = Response['output'][number];
type OutputText = { type: 'output_text'; text: string; annotations?: unknown[]; logprobs?: unknown[] };

function outputTexts(item: OutputItem): OutputText[] {
  if (item.type !== 'message') return [];
  return (item.content as Array<{ type: string }>).filter((c): c is OutputText => c.type === 'output_text');
}

/** Sets a text part's text; its annotations and log-probabilities describe the old text, so they go when it changed. */
function setText(part: OutputText, text: string): void {
  if (part.text === text) return;
  part.text = text;
  if (part.annotations) part.annotations = [];
  if (part.logprobs) part.logprobs = [];
}

/** Applies a function call's settlement to an item: its arguments transformed, or the verdict attached. */
function applySettlement(item: OutputItem, settled: ToolCallSettlement): void {
  if (!settled.keep || item.type !== 'function_call') return;
  if (settled.input !== undefined) item.arguments = JSON.stringify(settled.input);
  if (settled.verdict) Object.assign(item, { agentguard: settled.verdict });
}

/** The convenience `output_text` the SDK computed from the texts before they were checked. */
function refreshOutputText(response: Response): void {
  if ('output_text' in response) response.output_text = response.output.flatMap(outputTexts).map((p) => p.text).join('');
}

/** A whole response: every output_text part through the output policy, then every function call decided. */
export async function checkResponse(response: Response, ctx: CallContext): Promise<void> {
  const parts = (response.output ?? []).flatMap(outputTexts);
  const texts = await decideOutput(ctx.decider, ctx.name, parts.map((p) => p.text), ctx.settings.context);
  parts.forEach((part, i) => setText(part, ctx.restore ? ctx.restore(texts[i]!) : texts[i]!));
  const kept: OutputItem[] = [];
  for (const item of response.output ?? []) {
    if (item.type !== 'function_call') {
      kept.push(item);
      continue;
    }
    const settled = await settleToolCall(ctx.decider, item.name, parseArguments(item.arguments), ctx.settings.toolCalls, ctx.settings.context);
    if (!settled.keep) continue;
    applySettlement(item, settled);
    kept.push(item);
  }
  response.output = kept;
  refreshOutputText(response);
}

interface StreamedCall {
  key: string;
  outputIndex: number;
  name: string;
  args: string;
  deltas: Array<{ delta: string }>;
  done?: { arguments: string };
  settled?: ToolCallSettlement;
}

/**
 * A streamed response through the output gate. Text deltas are held back only as far as the policy's longest span;
 * the events that repeat the text (`output_text.done`, `content_part.done`, `output_item.done`, `response.completed`)
 * are rewritten to the text actually delivered. A function call is held from `output_item.added` to
 * `output_item.done`, then decided; a stripped call disappears from every later event and later output indexes are
 * renumbered, so `responses.stream()` accumulates a consistent response.
 */
export async function* gateResponseStream(source: AsyncIterable<ResponseStreamEvent>, ctx: CallContext): AsyncGenerator<ResponseStreamEvent> {
  const { guard, toolCalls: mode, holdBack } = ctx.settings;
  const gate = new StreamGate<ResponseStreamEvent>(windowCheck(guard, ctx.name, ctx.settings.context, ctx), ctx.restore, holdBack);
  ctx.written = () => [...gate.texts().values()].join('');
  const calls = new Map<number, StreamedCall>();
  const settledById = new Map<string, ToolCallSettlement>();
  const textChannels: string[] = [];
  const delivered = new Map<string, string>();
  const stripped: number[] = [];

  const channelOf = (e: { output_index: number; content_index: number }) => `${e.output_index}:${e.content_index}`;

  /** What the caller sees of an event released by the gate: texts as delivered, settled calls, renumbered indexes. */
  const present = (event: ResponseStreamEvent): ResponseStreamEvent => {
    switch (event.type) {
      case 'response.output_text.delta':
        delivered.set(channelOf(event), (delivered.get(channelOf(event)) ?? '') + event.delta);
        break;
      case 'response.output_text.done':
        event.text = delivered.get(channelOf(event)) ?? '';
        break;
      case 'response.content_part.done':
        if (event.part.type === 'output_text') setText(event.part as OutputText, delivered.get(channelOf(event)) ?? '');
        break;
      case 'response.output_item.added': {
        const verdict = event.item.type === 'function_call' ? calls.get(event.output_index)?.settled : undefined;
        if (verdict?.keep && verdict.verdict) Object.assign(event.item, { agentguard: verdict.verdict });
        break;
      }
      case 'response.output_item.done':
        settleItem(event.item, event.output_index);
        break;
      case 'response.completed':
        event.response.output.forEach((item, i) => settleItem(item, i));
        event.response.output = event.response.output.filter((_, i) => !stripped.includes(i));
        refreshOutputText(event.response);
        break;
      default:
        break;
    }
    if ('output_index' in event && typeof event.output_index === 'number') {
      const original = event.output_index;
      event.output_index = original - stripped.filter((i) => i < original).length;
    }
    return event;
  };
  const settleItem = (item: OutputItem, outputIndex: number): void => {
    outputTexts(item).forEach((part, contentIndex) => setText(part, delivered.get(`${outputIndex}:${contentIndex}`) ?? ''));
    const settled = item.type === 'function_call' ? (settledById.get(item.id ?? '') ?? calls.get(outputIndex)?.settled) : undefined;
    if (settled) applySettlement(item, settled);
  };

  for await (const event of source) {
    const parts: TextPart[] = [];
    const blockers: string[] = [];
    let finished: StreamedCall | undefined;
    if (event.type === 'response.completed') ctx.usage = responsesUsage(event.response);
    if (event.type === 'response.output_item.added' && event.item.type === 'function_call') {
      const call: StreamedCall = { key: `call:${event.output_index}`, outputIndex: event.output_index, name: event.item.name, args: event.item.arguments ?? '', deltas: [] };
      calls.set(event.output_index, call);
      blockers.push(call.key);
    } else if (event.type === 'response.output_text.delta') {
      const channel = channelOf(event);
      if (!textChannels.includes(channel)) textChannels.push(channel);
      parts.push({
        channel,
        text: event.delta,
        rewrite: (text) => {
          event.delta = text;
          if (event.logprobs) event.logprobs = [];
        },
      });
    } else if ('output_index' in event && calls.has(event.output_index as number)) {
      const call = calls.get(event.output_index as number)!;
      if (event.type === 'response.function_call_arguments.delta') {
        call.args += event.delta;
        call.deltas.push(event);
      } else if (event.type === 'response.output_item.done' && event.item.type === 'function_call') {
        call.name = event.item.name;
        call.args = event.item.arguments;
        finished = call;
      }
      if (event.type === 'response.function_call_arguments.done') call.done = event;
      blockers.push(call.key);
    }
    gate.add(event, parts, blockers);
    if (finished) {
      const settled = await settleToolCall(guard, finished.name, parseArguments(finished.args), mode, ctx.settings.context);
      finished.settled = settled;
      if (event.type === 'response.output_item.done' && event.item.id) settledById.set(event.item.id, settled);
      if (!settled.keep) stripped.push(finished.outputIndex);
      const args = settled.keep && settled.input !== undefined ? JSON.stringify(settled.input) : finished.args;
      finished.deltas.forEach((d, i) => (d.delta = i === 0 ? args : ''));
      if (finished.done) finished.done.arguments = args;
      gate.unblock(finished.key, !settled.keep);
    }
    for (const out of await gate.release()) yield present(out);
  }
  const texts = gate.texts();
  await decideOutput(guard, ctx.name, textChannels.map((c) => texts.get(c) ?? ''), ctx.settings.context);
  for (const out of await gate.release(true)) yield present(out);
}
