// agentguard inside the Vercel AI SDK (ai 7, language-model middleware spec v4): `import { agentguardMiddleware,
// guardTools, guardToolApproval } from 'agentguard/ai-sdk'`.
import { assertPeerInstalled } from '../shared/peer.js';

assertPeerInstalled('ai', 'agentguard/ai-sdk');

export { agentguardMiddleware } from './middleware.js';
export type { AgentguardMiddlewareOptions } from './middleware.js';
export { guardTools, guardToolApproval } from './tools.js';
export type { GuardToolsOptions } from './tools.js';
export type { AdapterOptions } from '../shared/context.js';
