/** What a sidecar answered: the status and the body parsed as JSON (null when it is not JSON). */
export interface ProbeReply {
  status: number;
  body: unknown;
}

/**
 * GETs a sidecar URL for the CLI's health checks, with a 2 s timeout. Never throws: a failure comes back as an Error
 * whose message says why in a few words (ECONNREFUSED, "no answer within 2 s").
 */
export async function probe(url: string, token?: string, headers: Record<string, string> = {}): Promise<ProbeReply | Error> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(2000), headers: token ? { ...headers, authorization: `Bearer ${token}` } : headers });
    const text = await response.text();
    let body: unknown = null;
    try {
      body = JSON.parse(text);
    } catch {
      // not JSON: the status alone answers these checks
    }
    return { status: response.status, body };
  } catch (error) {
    if ((error as Error).name === 'TimeoutError') return new Error('no answer within 2 s');
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    return new Error(cause?.code ?? cause?.message ?? (error as Error).message);
  }
}
