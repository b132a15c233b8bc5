// A support bot on the Vercel AI SDK (ai 7) with agentguard: the model behind agentguardMiddleware, the tools behind
// guardTools and the AI SDK's own tool approval. It runs offline against a fake OpenAI-compatible provider and shows
// an allowed call, a redaction, a denied tool call and an approval granted from another process.
//   npm run example support-bot-ai-sdk      (or: npm run build && node examples/support-bot-ai-sdk)
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createOpenAI } from '@ai-sdk/openai';
import { generateText, jsonSchema, tool, wrapLanguageModel } from 'ai';
import { AgentGuard } from 'agentguard/sdk';
import { agentguardMiddleware, guardToolApproval, guardTools } from 'agentguard/ai-sdk';
import { startFakeOpenAI } from '../../demo/fake-openai.js';

const here = dirname(fileURLToPath(import.meta.url));
// This folder is the example's project: agentguard.config.json here gives each decision's guardrails a 5 s budget
// (the first decisions load the guardrails, which can take longer than the default 250 ms on a busy machine).
process.chdir(here);
const cli = join(here, '..', '..', 'bin', 'run.js');

// The fake model: asks for the tool named in the last user turn, else answers in words.
const script = {
  'where is order 7': { tool_calls: [call('order_status', { order: 7 })] },
  'delete my account': { tool_calls: [call('delete_account', { user: 'u-9' })] },
  'refund 250 on order 7': { tool_calls: [call('refund', { order: 7, amount: 250 })] },
};
function call(name, args) {
  return { id: `call_${name}`, type: 'function', function: { name, arguments: JSON.stringify(args) } };
}
function answer(body) {
  const last = body.messages.at(-1);
  if (last.role === 'tool') return { content: `Done: ${String(last.content).slice(0, 80)}` };
  const asked = String(last.content).toLowerCase();
  const step = Object.entries(script).find(([question]) => asked.includes(question));
  return step ? step[1] : { content: 'Refunds take five working days.' };
}

const provider = await startFakeOpenAI({ answer });
const dataDir = await mkdtemp(join(tmpdir(), 'agentguard-support-bot-'));
const guard = new AgentGuard({ policy: join(here, 'policy.yaml'), agentId: 'support-bot', dataDir });
const restock = { calls: 0 };
const deletions = { calls: 0 };
try {
  const model = wrapLanguageModel({
    model: createOpenAI({ apiKey: 'sk-fake', baseURL: provider.baseURL }).chat('gpt-4o-mini'),
    middleware: agentguardMiddleware({ guard, session: 'conversation-1' }),
  });
  const args = jsonSchema({ type: 'object', properties: { order: { type: 'number' }, amount: { type: 'number' }, user: { type: 'string' } } });
  const tools = guardTools(
    {
      order_status: tool({ description: 'Where an order is', inputSchema: args, execute: async ({ order }) => `Order ${order} ships tomorrow; questions to ops@shop.example` }),
      refund: tool({ description: 'Refund an order', inputSchema: args, execute: async ({ order, amount }) => (restock.calls++, `Refunded ${amount} on order ${order}`) }),
      delete_account: tool({ description: 'Delete an account', inputSchema: args, execute: async () => (deletions.calls++, 'deleted') }),
    },
    { guard, session: 'conversation-1' },
  );
  const toolApproval = guardToolApproval(tools);
  const ask = (messages) => generateText({ model, tools, toolApproval, messages, stopWhen: ({ steps }) => steps.length >= 2 });

  // 1. An allowed call, with a redaction: the customer's e-mail address is not sent to the provider.
  const first = await ask([{ role: 'user', content: 'I am jane@customer.example. How long do refunds take?' }]);
  console.log(`allowed:   ${first.text}`);
  console.log(`redacted:  the provider received ${JSON.stringify(provider.requests[0].messages.at(-1).content)}`);

  // 2. A tool call, its result redacted before the model reads it.
  const status = await ask([{ role: 'user', content: 'Where is order 7?' }]);
  console.log(`tool:      ${status.text}`);

  // 3. A denied tool call: delete_account never runs; the model is told why (the AI SDK's denied tool output).
  const denied = await ask([{ role: 'user', content: 'Please delete my account.' }]);
  console.log(`denied:    delete_account did not run (deleted ${deletions.calls} accounts); the bot said: ${denied.text}`);

  // 4. An approval: the refund waits for a person, who approves it from another process (the agentguard CLI).
  const messages = [{ role: 'user', content: 'Refund 250 on order 7.' }];
  const paused = await ask(messages);
  const request = paused.content.find((part) => part.type === 'tool-approval-request');
  const approvalId = /agentguard approval (\S+?):/.exec(request.reason)[1];
  console.log(`approval:  refund paused, waiting for ${approvalId}`);
  await promisify(execFile)(process.execPath, [cli, 'approvals', 'approve', approvalId, '--by', 'team-lead', '--data-dir', dataDir]);
  const resumed = await ask([...messages, ...paused.response.messages, { role: 'tool', content: [{ type: 'tool-approval-response', approvalId: request.approvalId, approved: true }] }]);
  console.log(`approved:  ${resumed.text} (the refund ran ${restock.calls} time)`);
  if (restock.calls !== 1 || deletions.calls !== 0 || provider.requests.some((r) => JSON.stringify(r).includes('jane@customer.example'))) process.exitCode = 1;
} finally {
  await guard.close();
  await provider.close();
  await rm(dataDir, { recursive: true, force: true });
}
