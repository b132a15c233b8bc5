import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

/**
 * One HTTP request and its whole answer, over node:http(s) with a keep-alive agent. The SDK's sidecar calls use this
 * rather than fetch: loading fetch (undici) costs a short-lived process, such as a coding agent's hook, about 100 ms
 * on its first call, and each fetch adds tens of microseconds the decision path does not need. Redirects are not
 * followed (a 3xx is an answer like any other non-2xx). Idle keep-alive sockets do not keep the process alive.
 */
export interface Exchange {
  status: number;
  header(name: string): string | null;
  text: string;
}

/** Why an exchange failed, as fetch names it: `TimeoutError` when no whole answer came in time. */
export class ExchangeError extends Error {
  constructor(
    message: string,
    readonly name: 'TimeoutError' | 'NetworkError',
    readonly cause?: { code?: string; message?: string },
  ) {
    super(message);
  }
}

const agents = { http: new HttpAgent({ keepAlive: true }), https: new HttpsAgent({ keepAlive: true }) };
for (const agent of Object.values(agents)) {
  agent.on('free', (socket) => socket.unref());
}

function headerOf(headers: IncomingHttpHeaders, name: string): string | null {
  const value = headers[name.toLowerCase()];
  if (value === undefined) return null;
  return Array.isArray(value) ? value.join(', ') : value;
}

export function exchange(url: URL, options: { method: 'GET' | 'POST'; headers: Record<string, string>; body?: string; timeoutMs: number }): Promise<Exchange> {
  const secure = url.protocol === 'https:';
  const send = secure ? httpsRequest : httpRequest;
  const body = options.body === undefined ? undefined : Buffer.from(options.body, 'utf8');
  return new Promise<Exchange>((resolve, reject) => {
    let settled = false;
    const fail = (error: ExchangeError): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      request.destroy();
      reject(error);
    };
    const request = send(
      url,
      {
        method: options.method,
        agent: secure ? agents.https : agents.http,
        headers: { ...options.headers, ...(body ? { 'content-length': String(body.length) } : {}) },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', (error) => fail(new ExchangeError(error.message, 'NetworkError', { message: error.message })));
        response.on('aborted', () => fail(new ExchangeError('the answer was cut short', 'NetworkError', { message: 'the answer was cut short' })));
        response.on('end', () => {
          if (settled) return;
          if (!response.complete) {
            fail(new ExchangeError('the answer was cut short', 'NetworkError', { message: 'the answer was cut short' }));
            return;
          }
          settled = true;
          clearTimeout(timer);
          resolve({ status: response.statusCode ?? 0, header: (name) => headerOf(response.headers, name), text: Buffer.concat(chunks).toString('utf8') });
        });
      },
    );
    const timer = setTimeout(() => fail(new ExchangeError(`no answer within ${options.timeoutMs} ms`, 'TimeoutError')), options.timeoutMs);
    request.on('error', (error: NodeJS.ErrnoException) => fail(new ExchangeError(error.message, 'NetworkError', { ...(error.code ? { code: error.code } : {}), message: error.message })));
    request.end(body);
  });
}
