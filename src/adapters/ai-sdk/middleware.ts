import { performance } from 'node:perf_hooks';
import type { Decision } from '../../core/action.js';
import { AgentGuardError } from '../../core/errors.js';
import { estimatedUsage, recordCut, type CallContext } from '../../sdk/llm/guarded-call.js';
import { callOutcome, inputToRun, recordCall, type ClientSettings } from '../../sdk/llm/mediate.js';
import { decideOutput } from '../../sdk/llm/output.js';
import { adapterContext, type AdapterOptions } from '../shared/context.js';
import { actionName, requestFromInput, requestInput } from './request.js';
import { gateStream } from './stream.js';
import type { CallOptions, GenerateResult, Middleware, StreamPart, StreamResult } from './types.js';
import { tokenUsage } from './usage.js';

export interface AgentguardMiddlewareOptions extends AdapterOptions {
  /** Streams hold back at least this many characters of text (the policy's longest guardrail span is the floor). */
  holdBack?: number;
}

interface Call {
  decision: Decision;
  name: string;
}

/**
 * The AI SDK language-model middleware (spec v4, ai 7): `wrapLanguageModel({ model, middleware: agentguardMiddleware({
 * guard }) })`. Each model request is decided as `kind: "llm"` (name `<provider>.<model>`, input the whole prompt as
 * `messages` plus the sampling fields) before it is sent: deny or require_approval throw and nothing is sent; a
 * transform (e.g. redaction) is what is sent. Each answer is decided as `kind: "llm_output"` before the caller sees
 * it; streams pass through the guarded clients' hold-back gate. Usage is settled from the provider's report. Tool
 * calls are decided where they run: wrap the tools with `guardTools`. Put this middleware last in a list, so what it
 * decides is what reaches the model.
 */
export function agentguardMiddleware(options: AgentguardMiddlewareOptions): Middleware {
  const context = adapterContext(options, 'ai-sdk', 'agentguardMiddleware');
  const holdBack = options.holdBack ?? 0;
  if (!(Number.isInteger(holdBack) && holdBack >= 0)) {
    throw new AgentGuardError('GUARD_OPTIONS_INVALID', `agentguardMiddleware: holdBack is ${JSON.stringify(options.holdBack)}`, { actions: ['Give a whole number of characters, 0 or more.'] });
  }
  const { guard } = options;
  const settings: ClientSettings = { guard, toolCalls: 'throw', restoreRedactions: false, holdBack, context };
  // The decision made in transformParams, by the params object it returned (wrapGenerate/wrapStream receive that object).
  const calls = new WeakMap<CallOptions, Call>();
  const callOf = (params: CallOptions): Call => {
    const call = calls.get(params);
    // wrapLanguageModel hands wrapGenerate/wrapStream what transformParams returned; anything else was never decided.
    if (!call) throw new AgentGuardError('GUARD_OPTIONS_INVALID', 'agentguardMiddleware: this model call reached wrapGenerate/wrapStream without being decided by its transformParams, so it was not sent', { actions: ['Use the middleware through wrapLanguageModel({ model, middleware: agentguardMiddleware({ guard }) }).'] });
    return call;
  };

  return {
    specificationVersion: 'v4',

    async transformParams({ params, model }) {
      const name = actionName(model);
      const decision = await guard.decide({ kind: 'llm', name, input: requestInput(params, model), context });
      inputToRun(decision, undefined); // deny and require_approval throw: nothing is sent
      const decided = decision.effect === 'transform' ? requestFromInput(decision.action.input ?? {}, params) : { ...params };
      // Raw provider chunks carry the answer's text past the output gate.
      if (decided.includeRawChunks) decided.includeRawChunks = false;
      calls.set(decided, { decision, name });
      return decided;
    },

    async wrapGenerate({ doGenerate, params }) {
      const { decision, name } = callOf(params);
      const started = performance.now();
      let result: GenerateResult;
      try {
        result = await doGenerate();
      } catch (error) {
        await recordCall(guard, decision, started, { error });
        throw error;
      }
      // Read before the answer is checked: a denied answer was still generated and billed.
      const usage = tokenUsage(name.slice(name.indexOf('.') + 1), result.usage);
      const records = guard.answerRecords();
      const texts = result.content.flatMap((part) => (part.type === 'text' || part.type === 'reasoning' ? [part.text] : []));
      let checked: string[];
      try {
        checked = await decideOutput(records, name, texts, context);
      } catch (error) {
        await records.commit(decision, callOutcome(started, { error, usage })).catch(() => undefined);
        throw error;
      }
      try {
        await records.commit(decision, callOutcome(started, { usage }));
      } catch (error) {
        throw new AgentGuardError('AUDIT_UNAVAILABLE', `The answer could not be recorded (${(error as Error).message}), so it is withheld`);
      }
      let i = 0;
      let changed = false;
      const content = result.content.map((part) => {
        if (part.type !== 'text' && part.type !== 'reasoning') return part;
        const text = checked[i++]!;
        if (text === part.text) return part;
        changed = true;
        return { ...part, text };
      });
      if (!changed) return result;
      // The raw response body still spells out what was redacted.
      const response = result.response ? { ...result.response, body: undefined } : undefined;
      return { ...result, content, ...(response ? { response } : {}), structuredOutputText: undefined };
    },

    async wrapStream({ doStream, params }) {
      const { decision, name } = callOf(params);
      const started = performance.now();
      let result: StreamResult;
      try {
        result = await doStream();
      } catch (error) {
        await recordCall(guard, decision, started, { error });
        throw error;
      }
      const ctx: CallContext = { settings, name, decision, decider: guard };
      return { ...result, stream: gatedReadable(result.stream, ctx, started) };
    },
  };
}

/** The gated stream as a ReadableStream; the call is recorded when it ends, fails or is cancelled. */
function gatedReadable(source: ReadableStream<StreamPart>, ctx: CallContext, started: number): ReadableStream<StreamPart> {
  const reader = source.getReader();
  const parts: AsyncIterable<StreamPart> = {
    [Symbol.asyncIterator]: () => ({
      next: () => reader.read() as Promise<IteratorResult<StreamPart>>,
      return: async () => {
        await reader.cancel().catch(() => undefined);
        return { done: true, value: undefined };
      },
    }),
  };
  let finished = false;
  const finish = async (error?: unknown): Promise<void> => {
    if (finished) return;
    finished = true;
    if (error !== undefined) await reader.cancel().catch(() => undefined); // stopped or left early: stop the provider too
    // Tokens are billed even when the stream was cut before the provider reported them: estimate, and say so.
    const usage = ctx.usage ?? (await estimatedUsage(ctx));
    const outcome = error !== undefined ? { error, usage } : { usage };
    if (ctx.stoppedBy !== undefined && error !== undefined) await recordCut(ctx, started, outcome);
    else await recordCall(ctx.settings.guard, ctx.decision, started, outcome);
  };
  const gated = gateStream(parts, ctx);
  return new ReadableStream<StreamPart>({
    async pull(controller) {
      try {
        const next = await gated.next();
        if (next.done) {
          await finish();
          controller.close();
        } else controller.enqueue(next.value);
      } catch (error) {
        await finish(error);
        controller.error(error);
      }
    },
    async cancel(reason) {
      await gated.return(undefined).catch(() => undefined);
      await finish(reason ?? new Error('the caller cancelled the stream'));
    },
  });
}
