// agentguard/langchain: agentguard inside LangChain.js agents (langchain 1.x, @langchain/core 1.x), loaded on first use.
export { agentguardMiddleware } from './middleware.js';
export type { AgentGuardMiddlewareOptions, RuntimeLike } from './options.js';
