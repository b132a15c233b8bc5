import type { InputGuardrail, OutputGuardrail } from '@openai/agents';
import type { Decision } from '../../core/action.js';
import { adapterContext, type AdapterOptions } from '../shared/context.js';

/** The kinds of the agent-level checks: the run's input before the agent starts, its final output before it returns. */
export const AGENT_INPUT_KIND = 'agent_input';
export const AGENT_OUTPUT_KIND = 'agent_output';

function verdict(decision: Decision) {
  const tripped = decision.effect !== 'allow' && decision.effect !== 'transform';
  return { tripwireTriggered: tripped, outputInfo: { decisionId: decision.id, effect: decision.effect, reasons: decision.reasons.map((r) => r.message) } };
}

/** Plain JSON of what the SDK hands a guardrail (items may be class instances). */
function plain(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value ?? null)) as unknown;
}

/**
 * An agent input guardrail (OpenAI Agents SDK): the run's input is decided as `{ kind: "agent_input", name: <agent
 * name>, input: { messages } }` (every item: user turns, earlier answers, tool results), so input guardrails such as
 * injection or secrets run over all of it. Deny or require_approval trip the wire: the run throws the SDK's
 * InputGuardrailTripwireTriggered. A guardrail cannot rewrite the input: redactions of what is sent belong to the
 * model requests (guardedModelProvider). It runs before the agent starts (`runInParallel: false`).
 */
export function agentguardInputGuardrail(options: AdapterOptions): InputGuardrail {
  const context = adapterContext(options, 'openai-agents', 'agentguardInputGuardrail');
  return {
    name: 'agentguard',
    runInParallel: false,
    execute: async ({ agent, input }) => {
      const messages = typeof input === 'string' ? [{ role: 'user', content: input }] : plain(input);
      return verdict(await options.guard.decide({ kind: AGENT_INPUT_KIND, name: agent.name, input: { messages }, context }));
    },
  };
}

/**
 * An agent output guardrail: the final output is decided as `{ kind: "agent_output", name: <agent name>, input: {
 * content: [<text, or the structured output as JSON>] } }` before the run returns it. Deny or require_approval trip
 * the wire (OutputGuardrailTripwireTriggered).
 */
export function agentguardOutputGuardrail(options: AdapterOptions): OutputGuardrail<any> {
  const context = adapterContext(options, 'openai-agents', 'agentguardOutputGuardrail');
  return {
    name: 'agentguard',
    execute: async ({ agent, agentOutput }) => {
      const text = typeof agentOutput === 'string' ? agentOutput : JSON.stringify(agentOutput ?? null);
      return verdict(await options.guard.decide({ kind: AGENT_OUTPUT_KIND, name: agent.name, input: { content: [text] }, context }));
    },
  };
}
