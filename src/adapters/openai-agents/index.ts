// agentguard inside the OpenAI Agents SDK (@openai/agents 0.20): `import { guardTools, guardedModelProvider,
// agentguardInputGuardrail, agentguardOutputGuardrail, resolveApprovals } from 'agentguard/openai-agents'`.
import { assertPeerInstalled } from '../shared/peer.js';

assertPeerInstalled('@openai/agents', 'agentguard/openai-agents');

export { guardTools, resolveApprovals } from './tools.js';
export type { GuardToolsOptions, ResolvedApprovals } from './tools.js';
export { agentguardInputGuardrail, agentguardOutputGuardrail, AGENT_INPUT_KIND, AGENT_OUTPUT_KIND } from './guardrails.js';
export { guardedModelProvider } from './model-provider.js';
export type { GuardedModelProviderOptions } from './model-provider.js';
export type { AdapterOptions } from '../shared/context.js';
