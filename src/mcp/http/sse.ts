import { createParser, type EventSourceMessage } from 'eventsource-parser';

/**
 * Server-sent events (text/event-stream) as the MCP Streamable HTTP transport uses them: each event's data is one
 * JSON-RPC message (or empty, for the event that only primes a reconnection with its id).
 */

/** The bound on one event (the MCP stdio transport's bound on one message), so a server cannot make the proxy hold unbounded memory. */
export const MAX_EVENT_CHARS = 10 * 1024 * 1024;

/**
 * Reads an SSE body event by event; `retry:` fields come through as `{ retry }`. An event over MAX_EVENT_CHARS or
 * a malformed stream throws. An event cut off by the end of the stream is dropped, as the SSE format says.
 */
export async function* readEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<EventSourceMessage | { retry: number }> {
  const queue: Array<EventSourceMessage | { retry: number }> = [];
  let failure: Error | undefined;
  const parser = createParser({
    maxBufferSize: MAX_EVENT_CHARS,
    onEvent: (event) => queue.push(event),
    onRetry: (retry) => queue.push({ retry }),
    onError: (error) => {
      if (error.type === 'max-buffer-size-exceeded') failure = new Error(`the server sent an event over ${MAX_EVENT_CHARS} characters`);
    },
  });
  const decoder = new TextDecoder();
  for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
    parser.feed(decoder.decode(chunk, { stream: true }));
    if (failure) throw failure;
    while (queue.length > 0) yield queue.shift()!;
  }
  parser.feed(decoder.decode());
  while (queue.length > 0) yield queue.shift()!;
}

/** One event in the wire format; multi-line data becomes several `data:` lines, as the format requires. */
export function formatEvent(event: EventSourceMessage | { retry: number }): string {
  if ('retry' in event) return `retry: ${event.retry}\n\n`;
  let text = '';
  if (event.event !== undefined) text += `event: ${event.event}\n`;
  if (event.id !== undefined) text += `id: ${event.id}\n`;
  for (const line of event.data.split(/\r\n|\r|\n/)) text += `data: ${line}\n`;
  return `${text}\n`;
}
