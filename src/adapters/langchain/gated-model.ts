import { StreamGate, type WindowCheck } from '../../sdk/llm/stream-gate.js';
import { replaceText, setContent, textOf, type MessageLike } from './messages.js';
import type { LangChainPeers } from './peers.js';

/** A chat model or what binding tools to it gave (a model or a RunnableBinding): whatever can be invoked and streamed. */
interface InnerModel {
  invoke(messages: unknown, options?: Record<string, unknown>): Promise<MessageLike>;
  stream(messages: unknown, options?: Record<string, unknown>): Promise<AsyncIterable<MessageLike>>;
  bindTools?: (tools: unknown, kwargs?: unknown) => InnerModel;
  getLsParams?: (options: unknown) => Record<string, unknown>;
}

/** The run manager LangChain hands a chat model's generation (the parts used here). */
interface RunManagerLike {
  runId: string;
  inheritableHandlers: unknown[];
  inheritableTags: string[];
  inheritableMetadata: Record<string, unknown>;
  handleLLMNewToken(token: string, idx?: unknown, runId?: unknown, parentRunId?: unknown, tags?: unknown, fields?: { chunk: unknown }): Promise<void>;
}

export interface GateSettings {
  /** Checks a window of streamed text (a preview of the `llm_output` rules), as the guarded clients' gate does. */
  check: WindowCheck;
  /** Hold back at least this many characters. */
  holdBack: number;
  /** Filled while a stream runs: whether it started, and the text the model wrote so far (to estimate usage of a cut stream). */
  progress: { streamed: boolean; written: string };
}

type GatedModelClass = new (inner: InnerModel, settings: GateSettings, source: InnerModel) => object;
const classes = new WeakMap<object, GatedModelClass>();

/**
 * The agent's model behind the guarded clients' hold-back gate (src/sdk/llm/stream-gate.ts): a LangChain chat model
 * whose streamed chunks are released only once their text passed the `llm_output` rules (a value split across chunks
 * is caught whole; a redaction rewrites the chunks it spans), so a caller streaming the agent
 * (`streamMode: "messages"`) gets checked tokens as they come. The model's own run is tagged `nostream`: its raw
 * tokens are not streamed to the caller. Binding tools binds them to the model inside.
 */
export function gatedModel(peers: LangChainPeers, inner: unknown, settings: GateSettings): object {
  let Gated = classes.get(peers);
  if (!Gated) classes.set(peers, (Gated = gatedModelClass(peers)));
  return new Gated(inner as InnerModel, settings, inner as InnerModel);
}

function gatedModelClass(peers: LangChainPeers): GatedModelClass {
  const Base = peers.BaseChatModel as unknown as new (fields: Record<string, unknown>) => object;
  // The model inside runs as a child of the gate's run (as a chain's step would), tagged `nostream`: the agent's
  // message stream skips its raw tokens and carries the gate's checked ones.
  const child = (runManager: RunManagerLike) => {
    const manager = new peers.CallbackManager(runManager.runId);
    manager.setHandlers(runManager.inheritableHandlers);
    manager.addTags(runManager.inheritableTags);
    manager.addMetadata(runManager.inheritableMetadata);
    return manager;
  };
  const innerOptions = (options: Record<string, unknown>, runManager: RunManagerLike | undefined) => ({
    ...options,
    tags: ['nostream'],
    ...(runManager ? { callbacks: child(runManager) } : {}),
  });

  return class AgentGuardGatedChatModel extends Base {
    constructor(
      private readonly inner: InnerModel,
      private readonly settings: GateSettings,
      private readonly source: InnerModel,
    ) {
      super({});
    }

    _llmType(): string {
      return 'agentguard-gated';
    }

    /** The underlying model's tracing params (provider, model name), so traces and metadata name the real model. */
    getLsParams(options: unknown): Record<string, unknown> {
      return this.source.getLsParams?.call(this.source, options) ?? {};
    }

    bindTools(tools: unknown, kwargs?: unknown): object {
      if (typeof this.inner.bindTools !== 'function') throw new Error(`the agent's model (${String((this.inner as { constructor?: { name?: string } }).constructor?.name)}) cannot bind tools`);
      return new AgentGuardGatedChatModel(this.inner.bindTools(tools, kwargs), this.settings, this.source);
    }

    async _generate(messages: unknown[], options: Record<string, unknown>, runManager?: RunManagerLike): Promise<{ generations: Array<{ text: string; message: MessageLike }> }> {
      const message = await this.inner.invoke(messages, innerOptions(options, runManager));
      return { generations: [{ text: textOf(message.content), message }] };
    }

    async *_streamResponseChunks(messages: unknown[], options: Record<string, unknown>, runManager?: RunManagerLike): AsyncGenerator<unknown> {
      const gate = new StreamGate<MessageLike>(this.settings.check, undefined, this.settings.holdBack);
      const emit = async function* (chunks: MessageLike[]) {
        for (const message of chunks) {
          const text = textOf(message.content);
          const chunk = new peers.ChatGenerationChunk({ message, text });
          await runManager?.handleLLMNewToken(text, undefined, undefined, undefined, undefined, { chunk });
          yield chunk;
        }
      };
      const progress = this.settings.progress;
      progress.streamed = true;
      for await (const message of await this.inner.stream(messages, innerOptions(options, runManager))) {
        const text = textOf(message.content);
        progress.written += text;
        gate.add(message, text === '' ? [] : [{ channel: 'text', text, rewrite: (checked) => setContent(message, replaceText(message.content, checked)) }]);
        yield* emit(await gate.release());
      }
      yield* emit(await gate.release(true));
    }
  };
}
