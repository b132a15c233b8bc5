import type { TokenUsage } from '../../core/cost/types.js';
import { AgentGuardError } from '../../core/errors.js';
import { guardedCall, type CallContext, type ClientBinding } from './guarded-call.js';
import { decideOutput } from './output.js';
import { openAiTokens } from './openai-chat.js';
import { checkRequestOptions } from './request-options.js';

/** An endpoint that is not a chat call but is decided like one: `kind: "llm"`, name `<provider>.<model>`, input the body. */
export interface DecidedEndpoint {
  /** The model the API uses when the request names none (so the action is priced and matched by it). */
  defaultModel?: string;
  /** Checks the answer when it holds text the model wrote; may change it in place, or throw. */
  check?: (result: unknown, ctx: CallContext) => Promise<void>;
  /** Token usage of the answer (0 for free endpoints, so the reserved estimate is released). */
  usage: (result: unknown, model: string) => TokenUsage | undefined;
  /** Streamed answers of this endpoint would not be checked: `stream: true` is refused. */
  noStream?: boolean;
}

/**
 * How a guarded client treats each method of its SDK's resources (dotted paths, e.g. `embeddings.create`). Every
 * method that is in none of `guarded`, `decided` or `reads` is refused, so an endpoint added by a newer SDK is refused
 * until it is classified here.
 */
export interface EndpointTable {
  /** Decided by the chat/responses/messages guards (or built on them: stream, parse, runTools). */
  guarded: readonly string[];
  decided: Readonly<Record<string, DecidedEndpoint>>;
  /** Requests that carry only ids and paging, and answers without text the model wrote (or local helpers). */
  reads: readonly string[];
  /** What to use instead, for the refusal's message. */
  instead: string;
}

const free = (_result: unknown, model: string): TokenUsage => ({ model, inputTokens: 0, outputTokens: 0 });

interface LegacyCompletion {
  model?: string;
  choices?: Array<{ text?: string; logprobs?: unknown }>;
  usage?: { prompt_tokens?: number; completion_tokens?: number };
}

/** A legacy completion's texts pass the output policy, as a chat completion's do. */
async function checkLegacyCompletion(result: unknown, ctx: CallContext): Promise<void> {
  const choices = (result as LegacyCompletion).choices ?? [];
  const texts = await decideOutput(ctx.decider, ctx.name, choices.map((c) => (typeof c.text === 'string' ? c.text : '')), ctx.settings.context);
  choices.forEach((choice, i) => {
    if (typeof choice.text !== 'string') return;
    const text = ctx.restore ? ctx.restore(texts[i]!) : texts[i]!;
    if (text === choice.text) return;
    choice.text = text;
    choice.logprobs = null; // the log-probabilities spell out the text that was replaced
  });
}

export const OPENAI_ENDPOINTS: EndpointTable = {
  guarded: ['chat.completions.create', 'chat.completions.parse', 'chat.completions.stream', 'chat.completions.runTools', 'responses.create', 'responses.parse', 'responses.stream'],
  decided: {
    'embeddings.create': {
      usage: (result, model) => ({ model: (result as { model?: string }).model ?? model, inputTokens: (result as { usage?: { prompt_tokens?: number } }).usage?.prompt_tokens ?? 0, outputTokens: 0 }),
    },
    'moderations.create': { defaultModel: 'omni-moderation-latest', usage: free },
    'completions.create': {
      check: checkLegacyCompletion,
      noStream: true,
      usage: (result, model) => {
        const r = result as LegacyCompletion;
        return r.usage ? openAiTokens(r.model ?? model, r.usage.prompt_tokens ?? 0, 0, r.usage.completion_tokens ?? 0, 0) : undefined;
      },
    },
    'responses.inputTokens.count': { usage: free },
  },
  reads: ['models.list', 'models.retrieve', 'files.list', 'files.retrieve', 'files.waitForProcessing', 'batches.list', 'batches.retrieve', 'batches.cancel', 'webhooks.unwrap', 'webhooks.verifySignature'],
  instead: 'chat.completions, responses, embeddings.create, moderations.create or completions.create',
};

export const ANTHROPIC_ENDPOINTS: EndpointTable = {
  guarded: ['messages.create', 'messages.parse', 'messages.stream'],
  decided: { 'messages.countTokens': { usage: free } },
  reads: [
    'models.list', 'models.retrieve', 'messages.batches.list', 'messages.batches.retrieve', 'messages.batches.cancel', 'files.list', 'files.retrieveMetadata',
    'beta.models.list', 'beta.models.retrieve', 'beta.files.list', 'beta.files.retrieveMetadata', 'beta.webhooks.unwrap', 'beta.webhooks.parseUnverified',
  ],
  instead: 'messages.create, messages.stream or messages.countTokens',
};

interface ResourceMethod {
  path: string;
  owner: Record<string, unknown>;
  method: string;
}

/** Every method of every resource reachable from the client (a resource is an object with its own `_client`). */
function walkResources(client: object): ResourceMethod[] {
  const out: ResourceMethod[] = [];
  const seen = new Set<object>([client]);
  const visit = (node: object, prefix: string) => {
    for (const key of Object.keys(node)) {
      const value = (node as Record<string, unknown>)[key];
      if (value === null || typeof value !== 'object' || seen.has(value) || !Object.prototype.hasOwnProperty.call(value, '_client')) continue;
      seen.add(value);
      const path = prefix === '' ? key : `${prefix}.${key}`;
      const names = new Set<string>(Object.keys(value).filter((k) => typeof (value as Record<string, unknown>)[k] === 'function'));
      for (let proto = Object.getPrototypeOf(value); proto !== null && proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
        for (const name of Object.getOwnPropertyNames(proto)) if (name !== 'constructor' && typeof (value as Record<string, unknown>)[name] === 'function') names.add(name);
      }
      for (const method of names) out.push({ path: `${path}.${method}`, owner: value as Record<string, unknown>, method });
      visit(value, path);
    }
  };
  visit(client, '');
  return out;
}

/** The dotted paths of every resource method of a client, as the SDK version in use has them. */
export function resourceMethods(client: object): string[] {
  return walkResources(client).map((m) => m.path);
}

function notGuarded(clientName: string, plain: string, path: string, instead: string, why = 'does not guard'): AgentGuardError {
  return new AgentGuardError('METHOD_NOT_GUARDED', `${clientName} ${why} ${path}, so the request was not sent`, {
    actions: [`Use ${instead}; or, if sending it unchecked is intended, a plain ${plain} client (new ${plain}(...)) for this endpoint.`],
  });
}

/**
 * Classifies every resource method of a guarded client (see EndpointTable): decided ones are replaced by a version
 * that decides the request (with `context.endpoint` set to the method's path) and sends exactly what was decided;
 * everything not classified throws METHOD_NOT_GUARDED before anything is sent. Runs before the raw methods are sealed
 * (the resources' `_client` is still the client) and after the chat guards are installed.
 */
export function sealEndpoints(client: object, binding: ClientBinding, table: EndpointTable, clientName: string, plain: string): void {
  const guarded = new Set(table.guarded);
  const reads = new Set(table.reads);
  for (const { path, owner, method } of walkResources(client)) {
    if (guarded.has(path) || reads.has(path)) continue;
    const spec = table.decided[path];
    if (spec === undefined) {
      owner[method] = () => {
        throw notGuarded(clientName, plain, path, table.instead);
      };
      continue;
    }
    const original = (owner[method] as (body: unknown, options?: unknown) => unknown).bind(owner);
    owner[method] = (body: Record<string, unknown>, options?: unknown) => {
      let refused: Error | undefined;
      try {
        checkRequestOptions(options, clientName, path);
      } catch (error) {
        refused = error as Error;
      }
      const defaultModel = binding.defaultModel ?? spec.defaultModel;
      return guardedCall<unknown, unknown>({
        ...binding,
        ...(defaultModel !== undefined ? { defaultModel } : {}),
        endpoint: path,
        check: spec.check ?? (async () => undefined),
        gate: () => {
          throw notGuarded(clientName, plain, `${path} with stream: true`, table.instead, 'does not stream');
        },
        usage: (result) => spec.usage(result, String(body?.model ?? defaultModel ?? 'unknown')),
        refuse: (request) => (spec.noStream && request?.stream === true ? notGuarded(clientName, plain, `${path} with stream: true`, table.instead, 'does not stream') : undefined),
        send: (request) => original(request, options),
        ...(refused ? { refused } : {}),
      }, body);
    };
  }
}
