/**
 * What agentguard/ai-sdk adds to the Vercel AI SDK (ai 7), against the same AI SDK calls without it, side by side,
 * over the local fake provider (demo/fake-openai.js, the real chat-completions wire format):
 *  - per model call: generateText with the model wrapped by agentguardMiddleware (request decided as llm, answer as
 *    llm_output, outcome and usage recorded) versus the bare model;
 *  - per tool call: a generateText step that calls one tool (model asks, tool runs, model answers) with the tools
 *    wrapped by guardTools and guardToolApproval (call decided as tool, outcome recorded, result decided as
 *    tool_output) versus the bare tools, both over the bare model, so only the tool's guard differs.
 * Local mode with the audit trail on, a policy of rules without guardrails (the engine's own cost).
 * `measure({ calls, log })` returns rows `{ framework, what, plainP50Us, guardedP50Us, addedP50Us, samples }`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createOpenAI } from '@ai-sdk/openai';
import { generateText, jsonSchema, tool, wrapLanguageModel } from 'ai';
import { AgentGuard, Policy } from 'agentguard/sdk';
import { agentguardMiddleware, guardToolApproval, guardTools } from 'agentguard/ai-sdk';
import { startFakeOpenAI } from '../demo/fake-openai.js';
import { adapterBenchPolicy, interleavedSteps, kbAnswer, sideBySide } from './lib/adapter-timing.js';

const POLICY = Policy.parse(adapterBenchPolicy('bench-ai-sdk'));

export async function measure({ calls = Number(process.env.BENCH_ADAPTER_CALLS ?? 400), log = () => {} } = {}) {
  const dataDir = mkdtempSync(join(tmpdir(), 'agentguard-bench-ai-sdk-'));
  const provider = await startFakeOpenAI({ answer: kbAnswer });
  const guard = new AgentGuard({ policy: POLICY, agentId: 'bench', dataDir });
  try {
    const bare = createOpenAI({ apiKey: 'bench-key', baseURL: provider.baseURL }).chat('gpt-4o-mini');
    const wrapped = wrapLanguageModel({ model: bare, middleware: agentguardMiddleware({ guard }) });
    const inputSchema = jsonSchema({ type: 'object', properties: { query: { type: 'string' } } });
    const plainTools = { kb_search: tool({ description: 'search', inputSchema, execute: async ({ query }) => `Article about ${query}` }) };
    const guardedTools = guardTools(plainTools, { guard });
    const toolApproval = guardToolApproval(guardedTools);
    const stop = ({ steps }) => steps.length >= 2;

    log(`  ai-sdk: ${calls} model calls per side, alternating`);
    const [plainModel, guardedModel] = await interleavedSteps(
      [(i) => generateText({ model: bare, prompt: `question ${i}`, maxRetries: 0 }), (i) => generateText({ model: wrapped, prompt: `question ${i}`, maxRetries: 0 })],
      calls,
    );
    log(`  ai-sdk: ${calls} tool-call steps per side, alternating`);
    const [plainTool, guardedTool] = await interleavedSteps(
      [
        (i) => generateText({ model: bare, tools: plainTools, prompt: `search ${i}`, stopWhen: stop, maxRetries: 0 }),
        (i) => generateText({ model: bare, tools: guardedTools, toolApproval, prompt: `search ${i}`, stopWhen: stop, maxRetries: 0 }),
      ],
      calls,
    );
    return [sideBySide('AI SDK 7', 'model call (generateText)', plainModel, guardedModel), sideBySide('AI SDK 7', 'tool call (one step)', plainTool, guardedTool)];
  } finally {
    await guard.close();
    await provider.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
