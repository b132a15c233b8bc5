// Sidecar mode: a local agentguard sidecar (started and stopped here) decides for the agent over HTTP and keeps the
// audit trail; the agent holds only a token bound to its own id. The same AgentGuard API as local mode, so protect()
// and GuardedOpenAI work unchanged; agents in any language can ask the same sidecar (POST /v1/decide). Every failure
// to get an answer from the sidecar is a deny. Runs offline against a fake OpenAI-compatible provider.
//   npm run example sidecar      (or: npm run build && node examples/sidecar)
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AgentGuard, AgentGuardDeniedError, GuardedOpenAI } from 'agentguard/sdk';
import { startFakeOpenAI } from '../../demo/fake-openai.js';
import { agentguard, approve, pendingApproval } from '../_lib/agentguard-cli.js';

const here = dirname(fileURLToPath(import.meta.url));
const dataDir = await mkdtemp(join(tmpdir(), 'agentguard-sidecar-'));
const provider = await startFakeOpenAI({ answer: () => ({ content: 'Your refund is on its way.' }) });
let sidecar;
let guard;
const ran = { queries: 0, refunds: 0 };
try {
  // What an operator does once: a token for the agent, and the sidecar started in the background on a free port.
  const { token } = JSON.parse(await agentguard(['token', 'create', '--agent', 'support-agent', '--json', '--data-dir', dataDir]));
  // A generous time per decision's guardrails: the example also runs in test suites on busy machines.
  const config = join(dataDir, 'agentguard.config.json');
  await writeFile(config, JSON.stringify({ guardrails: { budgetMs: 5_000 } }));
  sidecar = JSON.parse(await agentguard(['sidecar', 'start', '--detach', '--port', '0', '--policy', join(here, 'policy.yaml'), '--config', config, '--data-dir', dataDir, '--json']));
  console.log(`sidecar:   listening on ${sidecar.url} (pid ${sidecar.pid})`);

  // The agent: the sidecar's URL and its token, nothing else.
  guard = new AgentGuard({ sidecar: { url: sidecar.url, token }, timeoutMs: 10_000 });
  const lookup = guard.protect('orders.lookup', async ({ id }) => ({ id, status: 'shipped' }));
  const query = guard.protect('db.query', async () => (ran.queries++, []));
  const refund = guard.protect('payments.refund', async ({ amount }) => (ran.refunds++, `refunded ${amount}`), { waitForApproval: { timeoutMs: 120_000 } });

  // 1. An allowed call.
  console.log(`allowed:   orders.lookup returned ${JSON.stringify(await lookup({ id: 7 }))}`);

  // 2. A denied call: the function never runs.
  try {
    await query({ sql: 'DROP TABLE orders' });
  } catch (error) {
    if (!(error instanceof AgentGuardDeniedError)) throw error;
    console.log(`denied:    db.query did not run: ${error.decision.reasons.map((r) => r.message).join('; ')} (queries run: ${ran.queries})`);
  }

  // 3. A redaction, decided by the sidecar: the guarded client sends the prompt without the e-mail address.
  const openai = new GuardedOpenAI({ apiKey: 'sk-fake', baseURL: provider.baseURL, maxRetries: 0, guard });
  await openai.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Refund status for ana.lopez@customer.example?' }] });
  console.log(`redacted:  the provider received ${JSON.stringify(provider.requests[0].messages[0].content)}`);

  // 4. An approval: the refund waits (the sidecar long-polls) until a person approves it from another process.
  const refunding = refund({ order: 7, amount: 250 });
  const id = await pendingApproval(dataDir, 'payments.refund');
  console.log(`approval:  payments.refund of 250 is waiting for ${id}`);
  await approve(dataDir, id);
  console.log(`approved:  ${await refunding} (the refund ran ${ran.refunds} time)`);

  // Every decision is in the sidecar's audit trail, hash-chained and signed.
  const verified = JSON.parse(await agentguard(['audit', 'verify', '--json', '--data-dir', dataDir]));
  console.log(`audit:     ${verified.records} records, verify ${verified.ok ? 'ok' : 'FAILED'}`);
  if (!verified.ok) process.exitCode = 1;

  if (ran.queries !== 0 || ran.refunds !== 1 || JSON.stringify(provider.requests).includes('ana.lopez@')) process.exitCode = 1;
} finally {
  await guard?.close();
  if (sidecar) await agentguard(['sidecar', 'stop', '--data-dir', dataDir]);
  await provider.close();
  await rm(dataDir, { recursive: true, force: true });
}
