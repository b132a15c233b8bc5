import { AgentGuardError } from '../../core/errors.js';
import { loadPeer } from '../../sdk/llm/peer.js';

/** The parts of `langchain` and `@langchain/core` the middleware uses, loaded as the application's own modules. */
export interface LangChainPeers {
  createMiddleware: (config: Record<string, unknown>) => unknown;
  ToolMessage: new (fields: { content: string; tool_call_id: string; name?: string; status?: 'success' | 'error' }) => object;
  RunnableBinding: new (fields: { bound: unknown; config: Record<string, unknown>; kwargs: Record<string, unknown> }) => object;
}

let loaded: LangChainPeers | undefined;

/**
 * Loads langchain and @langchain/core on first use (optional peer dependencies of agentguard): importing
 * `agentguard/langchain` costs nothing until a middleware is built, and a missing package is a clear error naming it.
 */
export function langChainPeers(): LangChainPeers {
  if (loaded) return loaded;
  const langchain = loadPeer<{ createMiddleware: LangChainPeers['createMiddleware']; ToolMessage: LangChainPeers['ToolMessage'] }>('langchain', 'agentguard/langchain');
  let runnables: { RunnableBinding: LangChainPeers['RunnableBinding'] };
  try {
    runnables = loadPeer('@langchain/core/runnables', 'agentguard/langchain');
  } catch (error) {
    throw new AgentGuardError('PEER_DEPENDENCY_MISSING', `agentguard/langchain needs the "@langchain/core" package, which could not be loaded (${(error as Error).message})`, {
      actions: ['Install it next to langchain: npm install @langchain/core'],
      cause: error,
    });
  }
  loaded = { createMiddleware: langchain.createMiddleware, ToolMessage: langchain.ToolMessage, RunnableBinding: runnables.RunnableBinding };
  return loaded;
}
