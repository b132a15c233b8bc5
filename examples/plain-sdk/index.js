// The plain SDK, no framework: AgentGuard in local mode (the policy evaluated in this process, every decision in a
// tamper-evident audit trail), protect() around the agent's functions, a drop-in GuardedOpenAI client, and the
// guardrails used directly (detect, redact). Runs offline against a fake OpenAI-compatible provider.
//   npm run example plain-sdk      (or: npm run build && node examples/plain-sdk)
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AgentGuard, AgentGuardDeniedError, GuardedOpenAI, detect, redact } from 'agentguard/sdk';
import { startFakeOpenAI } from '../../demo/fake-openai.js';
import { approve, pendingApproval } from '../_lib/agentguard-cli.js';

const here = dirname(fileURLToPath(import.meta.url));
const provider = await startFakeOpenAI({ answer: () => ({ content: 'Your refund is on its way.' }) });
const dataDir = await mkdtemp(join(tmpdir(), 'agentguard-plain-sdk-'));
const guard = new AgentGuard({ policy: join(here, 'policy.yaml'), agentId: 'support-agent', dataDir });
const ran = { queries: [], refunds: [] };
try {
  // The agent's own functions, each decided before it runs.
  const lookup = guard.protect('orders.lookup', async ({ id }) => ({ id, status: 'shipped' }));
  const query = guard.protect('db.query', async ({ sql }) => (ran.queries.push(sql), []));
  const refund = guard.protect('payments.refund', async ({ order, amount }) => (ran.refunds.push(amount), `refunded ${amount} on order ${order}`), {
    waitForApproval: { timeoutMs: 120_000, pollMs: 100 },
  });

  // 1. An allowed call.
  console.log(`allowed:   orders.lookup returned ${JSON.stringify(await lookup({ id: 7 }))}`);

  // 2. A denied call: the function never runs.
  try {
    await query({ sql: 'DROP TABLE orders' });
  } catch (error) {
    if (!(error instanceof AgentGuardDeniedError)) throw error;
    console.log(`denied:    db.query did not run: ${error.decision.reasons.map((r) => r.message).join('; ')} (queries run: ${ran.queries.length})`);
  }

  // 3. Redactions: the guarded client sends the prompt without the e-mail address; detect/redact work without a policy.
  const openai = new GuardedOpenAI({ apiKey: 'sk-fake', baseURL: provider.baseURL, maxRetries: 0, guard });
  const reply = await openai.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Refund status for ana.lopez@customer.example?' }] });
  console.log(`allowed:   the model answered ${JSON.stringify(reply.choices[0].message.content)}`);
  console.log(`redacted:  the provider received ${JSON.stringify(provider.requests[0].messages[0].content)}`);
  const note = 'Call Bo on +1 415-555-0132 or mail bo@customer.example';
  const found = await detect(note, { guardrails: ['pii'] });
  console.log(`redacted:  detect found ${found.map((f) => f.type).join(', ')}; redact(note, { mode: 'mask' }) gives ${JSON.stringify(await redact(note, { mode: 'mask' }))}`);

  // 4. An approval: the refund waits for a person, who approves it from another process (the agentguard CLI).
  const refunding = refund({ order: 7, amount: 250 });
  const id = await pendingApproval(dataDir, 'payments.refund');
  console.log(`approval:  payments.refund of 250 is waiting for ${id}`);
  await approve(dataDir, id);
  console.log(`approved:  ${await refunding} (the refund ran ${ran.refunds.length} time)`);

  if (ran.queries.length !== 0 || ran.refunds.length !== 1 || JSON.stringify(provider.requests).includes('ana.lopez@')) process.exitCode = 1;
} finally {
  await guard.close();
  await provider.close();
  await rm(dataDir, { recursive: true, force: true });
}
