/**
 * What agentguard/langchain adds to a LangChain.js agent (langchain 1.x createAgent), against the same agent without
 * it, side by side, over the local fake provider (demo/fake-openai.js, the real chat-completions wire format):
 *  - per model call: agent.invoke of an agent without tools (one model call) with agentguardMiddleware (request
 *    decided as llm, answer as llm_output, outcome and usage recorded) versus without middleware;
 *  - per tool call: agent.invoke of a question that calls one tool (model asks, tool runs, model answers) with only the
 *    middleware's wrapToolCall (call decided as tool, outcome recorded, result decided as tool_output) versus none,
 *    so only the tool's guard differs.
 * Local mode with the audit trail on, a policy of rules without guardrails (the engine's own cost). The two sides
 * alternate call by call: an agent.invoke takes milliseconds, so blocks would let a busy spell of the machine fall on
 * one side only.
 * `measure({ calls, log })` returns rows `{ framework, what, plainP50Us, guardedP50Us, addedP50Us, samples }`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChatOpenAI } from '@langchain/openai';
import { createAgent, createMiddleware, tool } from 'langchain';
import { z } from 'zod';
import { AgentGuard, Policy } from 'agentguard/sdk';
import { agentguardMiddleware } from 'agentguard/langchain';
import { startFakeOpenAI } from '../demo/fake-openai.js';
import { adapterBenchPolicy, interleavedSteps, kbAnswer, sideBySide } from './lib/adapter-timing.js';

const POLICY = Policy.parse(adapterBenchPolicy('bench-langchain'));

export async function measure({ calls = Number(process.env.BENCH_ADAPTER_CALLS ?? 400), log = () => {} } = {}) {
  const dataDir = mkdtempSync(join(tmpdir(), 'agentguard-bench-langchain-'));
  const provider = await startFakeOpenAI({ answer: kbAnswer });
  const guard = new AgentGuard({ policy: POLICY, agentId: 'bench', dataDir });
  try {
    const model = new ChatOpenAI({ model: 'gpt-4o-mini', apiKey: 'bench-key', maxRetries: 0, configuration: { baseURL: provider.baseURL } });
    const kbSearch = tool(async ({ query }) => `Article about ${query}`, { name: 'kb_search', description: 'search', schema: z.object({ query: z.string() }) });
    const middleware = agentguardMiddleware({ guard });
    const toolsOnly = createMiddleware({ name: 'agentguard-tools', wrapToolCall: middleware.wrapToolCall });

    const plainModelAgent = createAgent({ model, tools: [] });
    const guardedModelAgent = createAgent({ model, tools: [], middleware: [middleware] });
    log(`  langchain: ${calls} model calls per side, alternating`);
    const [plainModel, guardedModel] = await interleavedSteps(
      [(i) => plainModelAgent.invoke({ messages: [{ role: 'user', content: `question ${i}` }] }), (i) => guardedModelAgent.invoke({ messages: [{ role: 'user', content: `question ${i}` }] })],
      calls,
      { block: 1 },
    );

    const plainToolAgent = createAgent({ model, tools: [kbSearch] });
    const guardedToolAgent = createAgent({ model, tools: [kbSearch], middleware: [toolsOnly] });
    log(`  langchain: ${calls} tool-call steps per side, alternating`);
    const [plainTool, guardedTool] = await interleavedSteps(
      [(i) => plainToolAgent.invoke({ messages: [{ role: 'user', content: `search ${i}` }] }), (i) => guardedToolAgent.invoke({ messages: [{ role: 'user', content: `search ${i}` }] })],
      calls,
      { block: 1 },
    );
    return [sideBySide('LangChain.js 1', 'model call (agent.invoke)', plainModel, guardedModel), sideBySide('LangChain.js 1', 'tool call (one step)', plainTool, guardedTool)];
  } finally {
    await guard.close();
    await provider.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
