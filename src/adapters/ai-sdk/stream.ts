import type { CallContext } from '../../sdk/llm/guarded-call.js';
import { decideOutput, windowCheck } from '../../sdk/llm/output.js';
import { StreamGate, type TextPart } from '../../sdk/llm/stream-gate.js';
import { tokenUsage } from './usage.js';
import type { StreamPart } from './types.js';

/** The text a stream part carries, on its own channel per text or reasoning block. */
function textOf(part: StreamPart): TextPart | undefined {
  if ((part.type !== 'text-delta' && part.type !== 'reasoning-delta') || part.delta === '') return undefined;
  const delta = part as { delta: string };
  return { channel: `${part.type}:${part.id}`, text: part.delta, rewrite: (text) => (delta.delta = text) };
}

/**
 * An AI SDK stream through the guarded clients' hold-back gate: text and reasoning deltas are released only once the
 * output policy checked them (with the policy's longest span held back, so a value split across deltas is seen
 * whole); every other part keeps its place in the order. The whole answer is decided at the end, before the parts
 * after the last checked text (and `finish`) are released. The reported usage is kept on `ctx.usage`.
 */
export async function* gateStream(source: AsyncIterable<StreamPart>, ctx: CallContext): AsyncGenerator<StreamPart> {
  const { guard, holdBack, context } = ctx.settings;
  const model = ctx.name.slice(ctx.name.indexOf('.') + 1);
  const gate = new StreamGate<StreamPart>(windowCheck(guard, ctx.name, context, ctx), undefined, holdBack);
  ctx.written = () => [...gate.texts().values()].join('');
  for await (const part of source) {
    if (part.type === 'finish') ctx.usage = tokenUsage(model, part.usage) ?? ctx.usage;
    const text = textOf(part);
    gate.add(part, text ? [text] : []);
    yield* await gate.release();
  }
  await decideOutput(guard, ctx.name, [...gate.texts().values()], context);
  yield* await gate.release(true);
}
