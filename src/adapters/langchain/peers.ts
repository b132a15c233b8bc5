import { AgentGuardError } from '../../core/errors.js';
import { loadPeer } from '../../sdk/llm/peer.js';

/** The parts of `langchain` and `@langchain/core` the middleware uses, loaded as the application's own modules. */
export interface LangChainPeers {
  createMiddleware: (config: Record<string, unknown>) => unknown;
  ToolMessage: new (fields: { content: string; tool_call_id: string; name?: string; status?: 'success' | 'error' }) => object;
  /** The base class of chat models (@langchain/core/language_models/chat_models), and the chunk its streams yield. */
  BaseChatModel: abstract new (fields: Record<string, unknown>) => object;
  ChatGenerationChunk: new (fields: { message: unknown; text: string }) => object;
  /** Callback managers (@langchain/core/callbacks/manager): the model inside the gate runs as a child of the gate's run. */
  CallbackManager: new (parentRunId?: string) => { setHandlers(handlers: unknown[]): void; addTags(tags: string[], inherit?: boolean): void; addMetadata(metadata: Record<string, unknown>): void };
}

let loaded: LangChainPeers | undefined;

/**
 * Loads langchain and @langchain/core on first use (optional peer dependencies of agentguard): importing
 * `agentguard/langchain` costs nothing until a middleware is built, and a missing package is a clear error naming it.
 */
export function langChainPeers(): LangChainPeers {
  if (loaded) return loaded;
  const langchain = loadPeer<{ createMiddleware: LangChainPeers['createMiddleware']; ToolMessage: LangChainPeers['ToolMessage'] }>('langchain', 'agentguard/langchain');
  let chatModels: { BaseChatModel: LangChainPeers['BaseChatModel'] };
  let outputs: { ChatGenerationChunk: LangChainPeers['ChatGenerationChunk'] };
  let callbacks: { CallbackManager: LangChainPeers['CallbackManager'] };
  try {
    callbacks = loadPeer('@langchain/core/callbacks/manager', 'agentguard/langchain');
    chatModels = loadPeer('@langchain/core/language_models/chat_models', 'agentguard/langchain');
    outputs = loadPeer('@langchain/core/outputs', 'agentguard/langchain');
  } catch (error) {
    throw new AgentGuardError('PEER_DEPENDENCY_MISSING', `agentguard/langchain needs the "@langchain/core" package, which could not be loaded (${(error as Error).message})`, {
      actions: ['Install it next to langchain: npm install @langchain/core'],
      cause: error,
    });
  }
  loaded = { createMiddleware: langchain.createMiddleware, ToolMessage: langchain.ToolMessage, BaseChatModel: chatModels.BaseChatModel, ChatGenerationChunk: outputs.ChatGenerationChunk, CallbackManager: callbacks.CallbackManager };
  return loaded;
}
