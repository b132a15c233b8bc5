import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';

/**
 * What headers cross the proxy. Everything end-to-end passes (Authorization, Mcp-Session-Id, MCP-Protocol-Version,
 * Last-Event-ID, Accept, cookies…); hop-by-hop headers and those that describe the bytes of one connection do not,
 * because the proxy re-frames the body. Header values are never logged.
 */
const NOT_FORWARDED = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
  'content-length',
  // fetch negotiates and undoes compression itself; the body the proxy re-emits is plain.
  'accept-encoding',
  'content-encoding',
]);

export const SESSION_HEADER = 'mcp-session-id';

/** The client's request headers for the upstream request. */
export function upstreamRequestHeaders(headers: IncomingHttpHeaders): Headers {
  const out = new Headers();
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || NOT_FORWARDED.has(name)) continue;
    for (const one of Array.isArray(value) ? value : [value]) out.append(name, one);
  }
  return out;
}

/** The upstream response's headers for the client. */
export function clientResponseHeaders(headers: Headers): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  headers.forEach((value, name) => {
    if (NOT_FORWARDED.has(name) || name === 'set-cookie') return;
    out[name] = value;
  });
  const cookies = headers.getSetCookie();
  if (cookies.length > 0) out['set-cookie'] = cookies;
  return out;
}

/** One header's value when the client sent exactly one. */
export function singleHeader(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
}
