// A stand-in for api.openai.com on 127.0.0.1, so the demo (and `npm run bench`) run offline. It speaks the real
// chat-completions wire format, JSON or SSE (with `stream: true`, including the usage chunk that
// `stream_options.include_usage` asks for), and keeps every request it receives. By default it answers with a tool
// call when asked to clean up, and otherwise with a short text.
import { createServer } from 'node:http';

const USAGE = { prompt_tokens: 42, completion_tokens: 12, total_tokens: 54 };

function demoAnswer(body, n) {
  const last = String(body.messages?.at(-1)?.content ?? '');
  if (/clean up/i.test(last)) {
    return { tool_calls: [{ id: `call_demo_${n}`, type: 'function', function: { name: 'db.query', arguments: JSON.stringify({ sql: 'DROP TABLE orders' }) } }] };
  }
  return { content: 'Done: I drafted the reply about the refund status.' };
}

function completion(body, answer, n, usage) {
  const message = { role: 'assistant', refusal: null, content: answer.content ?? null, ...(answer.tool_calls ? { tool_calls: answer.tool_calls } : {}) };
  return {
    id: `chatcmpl-demo-${n}`,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model: body.model,
    choices: [{ index: 0, message, logprobs: null, finish_reason: answer.tool_calls ? 'tool_calls' : 'stop' }],
    usage,
  };
}

/** The SSE payloads of a streamed answer: role, the text in pieces of `chunkChars`, finish, then usage when asked. */
function chunks(body, answer, n, chunkChars, usage) {
  const base = { id: `chatcmpl-demo-${n}`, object: 'chat.completion.chunk', created: Math.floor(Date.now() / 1000), model: body.model };
  const withUsage = body.stream_options?.include_usage === true;
  const chunk = (delta, finish = null) => ({ ...base, choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }], ...(withUsage ? { usage: null } : {}) });
  const out = [chunk({ role: 'assistant', content: '' })];
  const text = answer.content ?? '';
  for (let i = 0; i < text.length; i += chunkChars) out.push(chunk({ content: text.slice(i, i + chunkChars) }));
  answer.tool_calls?.forEach((call, index) => out.push(chunk({ tool_calls: [{ index, ...call }] })));
  out.push(chunk({}, answer.tool_calls ? 'tool_calls' : 'stop'));
  if (withUsage) out.push({ ...base, choices: [], usage });
  return out;
}

/**
 * Starts the fake provider. `answer(body, n)` gives `{ content }` or `{ tool_calls }`, reporting `usage`; streams send `chunkChars`
 * characters per chunk, `chunkDelayMs` apart. `requests` holds the parsed body of every request that reached it.
 */
export async function startFakeOpenAI({ answer = demoAnswer, chunkChars = 16, chunkDelayMs = 0, usage = USAGE } = {}) {
  const requests = [];
  const server = createServer((req, res) => {
    let raw = '';
    req.on('data', (chunk) => (raw += chunk));
    req.on('end', async () => {
      if (req.method !== 'POST' || !req.url.endsWith('/chat/completions')) {
        res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: 'not found', type: 'invalid_request_error' } }));
        return;
      }
      const body = JSON.parse(raw);
      requests.push(body);
      const n = requests.length;
      const reply = answer(body, n);
      if (!body.stream) {
        res.writeHead(200, { 'content-type': 'application/json', 'x-request-id': `req_demo_${n}` }).end(JSON.stringify(completion(body, reply, n, usage)));
        return;
      }
      res.writeHead(200, { 'content-type': 'text/event-stream', 'x-request-id': `req_demo_${n}` });
      for (const payload of chunks(body, reply, n, chunkChars, usage)) {
        if (chunkDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, chunkDelayMs));
        res.write(`data: ${JSON.stringify(payload)}\n\n`);
      }
      res.end('data: [DONE]\n\n');
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { baseURL: `http://127.0.0.1:${server.address().port}/v1`, requests, close: () => new Promise((resolve) => (server.closeAllConnections(), server.close(resolve))) };
}
