/**
 * What agentguard/openai-agents adds to the OpenAI Agents SDK (@openai/agents 0.20), against the same runs without
 * it, side by side, over the local fake provider (demo/fake-openai.js, chat completions):
 *  - per model call: a one-turn run through guardedModelProvider (GuardedOpenAI: request decided as llm, answer as
 *    llm_output, usage recorded) versus the SDK's OpenAIProvider over the plain OpenAI client;
 *  - per tool call: a run in which the model calls one tool, with the tool wrapped by guardTools (needsApproval, the
 *    tool input guardrail and invoke: one decision, outcome recorded, result decided as tool_output) versus the bare
 *    tool, both over the plain provider, so only the tool's guard differs.
 * Local mode with the audit trail on, a policy of rules without guardrails. Tracing off on both sides.
 * `measure({ calls, log })` returns rows `{ framework, what, plainP50Us, guardedP50Us, addedP50Us, samples }`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { Agent, OpenAIProvider, Runner, tool } from '@openai/agents';
import { z } from 'zod';
import { AgentGuard, Policy } from 'agentguard/sdk';
import { guardedModelProvider, guardTools } from 'agentguard/openai-agents';
import { startFakeOpenAI } from '../demo/fake-openai.js';
import { adapterBenchPolicy, interleavedSteps, kbAnswer, sideBySide } from './lib/adapter-timing.js';

const POLICY = Policy.parse(adapterBenchPolicy('bench-openai-agents'));

export async function measure({ calls = Number(process.env.BENCH_ADAPTER_CALLS ?? 400), log = () => {} } = {}) {
  const dataDir = mkdtempSync(join(tmpdir(), 'agentguard-bench-agents-'));
  const provider = await startFakeOpenAI({ answer: kbAnswer });
  const guard = new AgentGuard({ policy: POLICY, agentId: 'bench', dataDir });
  try {
    const client = { apiKey: 'bench-key', baseURL: provider.baseURL, maxRetries: 0 };
    const plainRunner = new Runner({ modelProvider: new OpenAIProvider({ openAIClient: new OpenAI(client), useResponses: false }), tracingDisabled: true });
    const guardedRunner = new Runner({ modelProvider: guardedModelProvider({ guard, openAI: client, useResponses: false }), tracingDisabled: true });
    const kb = tool({ name: 'kb_search', description: 'search', parameters: z.object({ query: z.string() }), execute: async ({ query }) => `Article about ${query}` });
    const chat = new Agent({ name: 'bench', model: 'gpt-4o-mini' });
    const plainAgent = new Agent({ name: 'bench', model: 'gpt-4o-mini', tools: [kb] });
    const guardedAgent = new Agent({ name: 'bench', model: 'gpt-4o-mini', tools: guardTools([kb], { guard }) });

    log(`  openai-agents: ${calls} one-turn runs per side, alternating`);
    const [plainModel, guardedModel] = await interleavedSteps([(i) => plainRunner.run(chat, `question ${i}`), (i) => guardedRunner.run(chat, `question ${i}`)], calls);
    log(`  openai-agents: ${calls} runs with one tool call per side, alternating`);
    const [plainTool, guardedTool] = await interleavedSteps([(i) => plainRunner.run(plainAgent, `search ${i}`), (i) => plainRunner.run(guardedAgent, `search ${i}`)], calls);
    return [sideBySide('OpenAI Agents SDK 0.20', 'model call (one-turn run)', plainModel, guardedModel), sideBySide('OpenAI Agents SDK 0.20', 'tool call (run with one call)', plainTool, guardedTool)];
  } finally {
    await guard.close();
    await provider.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
