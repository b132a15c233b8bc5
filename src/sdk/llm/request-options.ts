import { AgentGuardError } from '../../core/errors.js';

/**
 * Per-request options that would change what is sent after the policy judged the request (the SDKs spread the options
 * over the request they build: `{ body, ...options }`), or how the answer is read (a binary response is never checked).
 */
const REFUSED = ['body', 'path', 'query', 'method', 'defaultBaseURL', '__binaryResponse', '__streamClass', '__synthesizeEventData'] as const;
/** Fields of `fetchOptions` that fetch would send instead of the judged request. */
const REFUSED_FETCH = ['body', 'method'] as const;

/** Marks the options of calls made by a tool runner (runTools): their denied tool calls always throw. */
export const TOOL_RUNNER = Symbol('agentguard.toolRunner');

function refusal(clientName: string, method: string, what: string): AgentGuardError {
  return new AgentGuardError('REQUEST_OPTION_REFUSED', `${clientName}.${method}: the request option ${what} would change what is sent after agentguard decided the request, so nothing was sent`, {
    actions: ['Put everything to send in the first argument (the request agentguard decides); per-request options may set headers, timeout, maxRetries, signal, idempotencyKey and fetchOptions without body.'],
  });
}

/** Throws REQUEST_OPTION_REFUSED when per-request options would override the judged request. */
export function checkRequestOptions(options: unknown, clientName: string, method: string): void {
  if (options === undefined || options === null) return;
  if (typeof options !== 'object' || typeof (options as { then?: unknown }).then === 'function') throw refusal(clientName, method, 'object (not a plain options object)');
  const given = options as Record<string, unknown>;
  for (const key of Object.keys(given)) {
    if ((REFUSED as readonly string[]).includes(key)) throw refusal(clientName, method, `"${key}"`);
  }
  checkFetchOptions(given.fetchOptions, () => refusal(clientName, method, '"fetchOptions.body" or "fetchOptions.method"'));
}

/** `fetchOptions` (per request or for the whole client) must not carry a body or method of its own. */
export function checkFetchOptions(fetchOptions: unknown, error: () => Error): void {
  if (fetchOptions === undefined || fetchOptions === null) return;
  if (typeof fetchOptions !== 'object') throw error();
  for (const key of REFUSED_FETCH) if ((fetchOptions as Record<string, unknown>)[key] !== undefined) throw error();
}

/** The options as they are sent: without the tool runner's mark. */
export function withoutMark(options: unknown): unknown {
  if (options === null || typeof options !== 'object' || !(TOOL_RUNNER in options)) return options;
  const { [TOOL_RUNNER]: _mark, ...rest } = options as Record<string | symbol, unknown>;
  return rest;
}
