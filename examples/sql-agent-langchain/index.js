// A SQL agent on LangChain.js (langchain 1.x createAgent) with agentguard as its middleware: every model call, SQL
// statement and tool result goes through the policy in policy.yaml. It runs offline against a fake OpenAI-compatible
// provider and a SQLite database in memory, and shows an allowed query, a redaction, a denied statement and a refund
// approved from another process while the agent's LangGraph run is paused (an interrupt, resumed after the approval).
//   npm run example sql-agent-langchain      (or: npm run build && node examples/sql-agent-langchain)
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { ChatOpenAI } from '@langchain/openai';
import { Command, MemorySaver } from '@langchain/langgraph';
import { createAgent, tool } from 'langchain';
import { z } from 'zod';
import { AgentGuard } from 'agentguard/sdk';
import { agentguardMiddleware } from 'agentguard/langchain';
import { startFakeOpenAI } from '../../demo/fake-openai.js';
import { approve } from '../_lib/agentguard-cli.js';

const here = dirname(fileURLToPath(import.meta.url));

// The shop's database.
const db = new Database(':memory:');
db.exec(`CREATE TABLE orders (id INTEGER PRIMARY KEY, customer TEXT, status TEXT, amount REAL);
  INSERT INTO orders VALUES (7, 'ana.lopez@customer.example', 'shipped', 250), (8, 'bo@customer.example', 'cancelled', 40), (9, 'cy@customer.example', 'shipped', 99);`);
const refunds = [];

const sqlQuery = tool(async ({ sql }) => JSON.stringify(db.prepare(sql).all()), {
  name: 'sql_query',
  description: 'Runs one SQL statement on the shop database and returns the rows as JSON',
  schema: z.object({ sql: z.string() }),
});
const refund = tool(async ({ order, amount }) => (refunds.push({ order, amount }), `Refunded ${amount} on order ${order}`), {
  name: 'refund',
  description: 'Refunds an amount on an order',
  schema: z.object({ order: z.number(), amount: z.number() }),
});

// The fake model: asks for the tool call that fits the question, and answers in words once it has a tool's result.
const script = [
  ['how many orders shipped', 'sql_query', { sql: "SELECT count(*) AS shipped FROM orders WHERE status = 'shipped'" }],
  ['who placed order 7', 'sql_query', { sql: 'SELECT customer FROM orders WHERE id = 7' }],
  ['clean up cancelled orders', 'sql_query', { sql: "DELETE FROM orders WHERE status = 'cancelled'" }],
  ['refund order 7', 'refund', { order: 7, amount: 250 }],
];
function answer(body) {
  const last = body.messages.at(-1);
  if (last.role === 'tool') return { content: `Here is what I found: ${String(last.content).slice(0, 100)}` };
  const asked = String(last.content).toLowerCase();
  const step = script.find(([question]) => asked.includes(question));
  return step ? { tool_calls: [{ id: `call_${step[1]}`, type: 'function', function: { name: step[1], arguments: JSON.stringify(step[2]) } }] } : { content: 'I can answer questions about orders.' };
}

const provider = await startFakeOpenAI({ answer });
const dataDir = await mkdtemp(join(tmpdir(), 'agentguard-sql-agent-'));
const guard = new AgentGuard({ policy: join(here, 'policy.yaml'), agentId: 'sql-agent', dataDir });
try {
  const agent = createAgent({
    model: new ChatOpenAI({ model: 'gpt-4o-mini', apiKey: 'sk-fake', configuration: { baseURL: provider.baseURL } }),
    tools: [sqlQuery, refund],
    middleware: [agentguardMiddleware({ guard })],
    checkpointer: new MemorySaver(), // lets a refund that needs approval pause the run (a LangGraph interrupt)
  });
  let thread = 0;
  const ask = (question) => {
    const config = { configurable: { thread_id: `thread-${++thread}` } };
    return agent.invoke({ messages: [{ role: 'user', content: question }] }, config).then((result) => ({ result, config }));
  };
  const last = ({ result }) => result.messages.at(-1).content;
  const sentToProvider = () => JSON.stringify(provider.requests.at(-1).messages.at(-1).content);

  // 1. An allowed query.
  console.log(`allowed:   ${last(await ask('How many orders shipped?'))}`);

  // 2. A redaction: the customer's e-mail address in the query result never reaches the model provider.
  await ask('Who placed order 7?');
  console.log(`redacted:  the provider received the tool result ${sentToProvider()}`);

  // 3. A denied statement: the DELETE never runs; the model gets the refusal as the tool's answer.
  const denied = await ask('Clean up cancelled orders, please.');
  const refusal = denied.result.messages.find((m) => m.type === 'tool');
  const rows = db.prepare('SELECT count(*) AS n FROM orders').get().n;
  console.log(`denied:    ${refusal.content} (the table still has ${rows} orders)`);

  // 4. An approval: the refund pauses the run; a person approves it from another process; the run resumes.
  const paused = await ask('Refund order 7 in full.');
  const request = paused.result.__interrupt__[0].value;
  const approvalId = request.agentguard.approvalId;
  console.log(`approval:  ${request.actionRequests[0].name} ${JSON.stringify(request.actionRequests[0].args)} is waiting for ${approvalId}`);
  await approve(dataDir, approvalId);
  const resumed = await agent.invoke(new Command({ resume: { decisions: [{ type: 'approve' }] } }), paused.config);
  console.log(`approved:  ${resumed.messages.at(-1).content} (the refund ran ${refunds.length} time)`);

  const leaked = provider.requests.some((r) => JSON.stringify(r).includes('ana.lopez@customer.example'));
  if (refunds.length !== 1 || rows !== 3 || leaked) process.exitCode = 1;
} finally {
  await guard.close();
  await provider.close();
  db.close();
  await rm(dataDir, { recursive: true, force: true });
}
