import type { AgentMiddleware } from 'langchain';
import { guardModelCall } from './model-guard.js';
import { middlewareSettings, type AgentGuardMiddlewareOptions } from './options.js';
import { langChainPeers } from './peers.js';
import { guardToolCall } from './tool-guard.js';

/**
 * agentguard as LangChain.js agent middleware (langchain 1.x `createAgent`): every model request, answer, tool call
 * and tool result goes through the one engine of the guard (local or sidecar mode), audited with
 * `context.framework: "langchain"`.
 *
 * @example
 * import { createAgent } from 'langchain';
 * import { AgentGuard } from 'agentguard/sdk';
 * import { agentguardMiddleware } from 'agentguard/langchain';
 *
 * const guard = new AgentGuard({ policy: 'agentguard/policy.yaml', agentId: 'sql-agent' });
 * const agent = createAgent({ model, tools, middleware: [agentguardMiddleware({ guard })] });
 */
export function agentguardMiddleware(options: AgentGuardMiddlewareOptions): AgentMiddleware {
  const settings = middlewareSettings(options);
  const peers = langChainPeers();
  return peers.createMiddleware({
    name: 'agentguard',
    wrapModelCall: guardModelCall(settings, peers),
    wrapToolCall: guardToolCall(settings, peers),
  }) as AgentMiddleware;
}
