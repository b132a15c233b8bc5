import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatEvent, readEvents } from '../src/mcp/http/sse.js';

/** A body that delivers `text` cut at the given positions (as a network would). */
function body(text: string, cuts: number[]): ReadableStream<Uint8Array> {
  const bytes = new TextEncoder().encode(text);
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const parts: Uint8Array[] = [];
  let from = 0;
  for (const point of [...points, bytes.length]) {
    parts.push(bytes.slice(from, point));
    from = point;
  }
  return new ReadableStream({
    start(controller) {
      for (const part of parts) controller.enqueue(part);
      controller.close();
    },
  });
}

async function collect(stream: ReadableStream<Uint8Array>): Promise<unknown[]> {
  const events: unknown[] = [];
  for await (const event of readEvents(stream)) events.push(event);
  return events;
}

const noCr = (s: string) => !s.includes('\r');
const field = fc.string({ minLength: 1, maxLength: 12 }).filter((s) => !/[\r\n]/.test(s) && s.trim() === s);
const event = fc.record({ data: fc.string({ maxLength: 200 }).filter(noCr), id: fc.option(field, { nil: undefined }), event: fc.option(field, { nil: undefined }) });

describe('SSE re-emission of the HTTP MCP gateway', () => {
  it('reads back every event it writes, in order, however the stream is cut (fast-check)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(event, { maxLength: 6 }), fc.array(fc.nat(), { maxLength: 8 }), async (events, cuts) => {
        const text = events.map((e) => formatEvent(e)).join('');
        const read = await collect(body(text, cuts));
        expect(read).toEqual(events.map((e) => ({ data: e.data, id: e.id, event: e.event })));
      }),
      { numRuns: 150 },
    );
  });

  it('keeps retry fields and drops an event the stream cut off', async () => {
    const read = await collect(body('retry: 3000\n\nid: 1\ndata: {"a":1}\n\ndata: {"cut', [5, 17]));
    expect(read).toEqual([{ retry: 3000 }, { id: '1', event: undefined, data: '{"a":1}' }]);
  });
});
