import { AsyncLocalStorage } from 'node:async_hooks';
import { AgentGuardError } from '../../core/errors.js';

/** The client methods that send any request to any path: reached by the SDK's resources, refused to the caller. */
const RAW_METHODS = ['get', 'post', 'put', 'patch', 'delete', 'methodRequest', 'request', 'makeRequest', 'getAPIList', 'requestAPIList', 'fetchWithAuth', 'fetchWithTimeout'] as const;
const RAW = new Set<string | symbol>(RAW_METHODS);

/** Set while a resource of a guarded client sends its request (and through every await of it: retries, fetch). */
const fromResource = new AsyncLocalStorage<true>();

type ListOptions = { method?: unknown; path?: unknown; body?: unknown; fetchOptions?: { body?: unknown; method?: unknown } } | undefined;

/**
 * A page of a list endpoint asks for the next one from the user's loop (the page holds the client itself, not the
 * resources' view): allowed as a GET without a body to a path a resource of this client listed before, so a raw
 * `requestAPIList` cannot read any other path (a stored response, a file's content).
 */
function isNextPage(method: string, args: unknown[], listed: ReadonlySet<unknown>): boolean {
  const options = args[1] as ListOptions;
  return method === 'requestAPIList' && options?.method === 'get' && listed.has(options.path) && options.body === undefined && options.fetchOptions?.body === undefined && options.fetchOptions?.method === undefined;
}

/**
 * Refuses the raw request methods of a guarded client (`client.post('/chat/completions', { body })` would send a prompt
 * nobody decided) while the SDK's own resources keep working: every resource (`client.chat.completions`,
 * `client.models`, nested ones too) reaches the client through a view whose raw methods run in a context the
 * refusing methods recognise.
 */
export function sealRawMethods(client: object, clientName: string): void {
  const methods = client as Record<string, unknown>;
  const listed = new Set<unknown>();
  for (const method of RAW_METHODS) {
    const original = methods[method];
    if (typeof original !== 'function') continue;
    Object.defineProperty(client, method, {
      configurable: true,
      writable: false,
      value: function (this: unknown, ...args: unknown[]) {
        const send = () => (original as (...a: unknown[]) => unknown).apply(this, args);
        if (fromResource.getStore() === true) {
          if (method === 'requestAPIList') listed.add((args[1] as ListOptions)?.path);
          return send();
        }
        if (isNextPage(method, args, listed)) return fromResource.run(true, send);
        throw new AgentGuardError('METHOD_NOT_GUARDED', `${clientName} does not send raw requests (${method}), so nothing was sent`, {
          actions: ['Use the guarded methods (chat.completions.create, responses.create, messages.create), or a plain client for requests that may go out unchecked.'],
        });
      },
    });
  }
  // Methods are bound to the client itself: the SDK keeps private fields on it, which a proxy does not have.
  const view = new Proxy(client, {
    get(target, key) {
      const value = Reflect.get(target, key, target);
      if (typeof value !== 'function') return value;
      if (RAW.has(key)) return (...args: unknown[]) => fromResource.run(true, () => (value as (...a: unknown[]) => unknown).apply(target, args));
      return key === 'constructor' ? value : (value as (...a: unknown[]) => unknown).bind(target);
    },
  });
  repoint(client, client, view, new Set());
}

/** Points `_client` of every resource reachable from `node` at `view`. */
function repoint(node: object, client: object, view: object, seen: Set<object>): void {
  for (const key of Object.keys(node)) {
    const value = (node as Record<string, unknown>)[key];
    if (value === null || typeof value !== 'object' || seen.has(value) || value === client || value === view) continue;
    seen.add(value);
    if ((value as { _client?: unknown })._client !== client) continue;
    (value as { _client: object })._client = view;
    repoint(value, client, view, seen);
  }
}

/**
 * The client's API key is read by its own requests only: code that opens a connection of its own with it (the
 * realtime WebSocket, `new OpenAIRealtimeWS({ model }, client)`) would send prompts no one decided, so reading it
 * from outside the client's requests throws.
 */
export function withholdApiKey(client: object, clientName: string): void {
  let key = (client as { apiKey?: unknown }).apiKey;
  Object.defineProperty(client, 'apiKey', {
    configurable: true,
    enumerable: false,
    get() {
      if (fromResource.getStore() === true) return key;
      throw new AgentGuardError('METHOD_NOT_GUARDED', `${clientName} does not hand out its API key (a connection opened with it, such as a realtime WebSocket, is not guarded), so nothing was sent`, {
        actions: ['Use the guarded methods; for a realtime session that may go out unchecked, give the realtime client a plain OpenAI client.'],
      });
    },
    set(value: unknown) {
      key = value; // the SDK refreshes a key given as a function before each request
    },
  });
}
