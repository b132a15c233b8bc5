/**
 * Bench section: what GuardedOpenAI adds to a call, against the plain `openai` client talking to the same local fake
 * provider (demo/fake-openai.js, real wire format) in the same process. Calls alternate between the clients in blocks,
 * so drift hits both alike. The guards run in local mode with the audit trail on (and once off, to show the engine alone):
 *  - policy only: rules without guardrails (decide the request, decide the answer, record the outcome);
 *  - all guardrails: pii, secrets, injection and moderation on every message of a 2 KB prompt and on the answer, once
 *    with every text new on every call (nothing for the guardrails to remember), once as a conversation (the system
 *    prompt and the history are sent again with every call, as chat clients do; only the last message and the answer
 *    are new);
 *  - streams: time to the first text chunk, policy only (nothing to hold back) and with e-mail redaction in answers
 *    (the gate holds back 254 characters, the longest e-mail address), with chunks arriving every 5 ms as a model's do.
 * Added p50 = guarded p50 − plain p50.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { AgentGuard, GuardedOpenAI, Policy } from 'agentguard/sdk';
import { startFakeOpenAI } from '../demo/fake-openai.js';
import { summarize } from './lib/measure.js';
import { markdownTable } from './lib/report.js';

export const id = 'llm-clients';
export const title = 'Guarded LLM clients: overhead versus the plain SDK client';

const TARGETS = { policyOnlyMs: 0.5, allGuardrailsMs: 2 };
const CALLS = Number(process.env.BENCH_LLM_CALLS ?? 1500);
const STREAMS = Number(process.env.BENCH_LLM_STREAMS ?? 30);

const ANSWER = 'Refunds are processed within five business days of the request. ' +
  'You will receive a confirmation once the money is on its way, and the order page shows the status meanwhile. '.repeat(4);

const POLICY_ONLY = [
  { id: 'models', effect: 'allow', when: { kind: 'llm', name: { glob: 'openai.*' } } },
  { id: 'answers', effect: 'allow', when: { kind: 'llm_output' } },
  { id: 'cap', effect: 'transform', when: { kind: 'llm', 'input.max_tokens': { gt: 1024 } }, transform: [{ clamp: 'input.max_tokens', max: 1024 }] },
];
const ALL_GUARDRAILS = [
  ...POLICY_ONLY,
  { id: 'no-injection', effect: 'deny', when: { kind: 'llm', detect: { guardrail: 'injection', in: 'input.messages' } } },
  { id: 'no-secrets', effect: 'deny', when: { detect: { guardrail: 'secrets' } } },
  { id: 'no-toxicity', effect: 'deny', when: { detect: { guardrail: 'moderation' } } },
  { id: 'no-pii-out', effect: 'transform', when: { kind: 'llm', detect: { guardrail: 'pii', in: 'input.messages' } }, transform: [{ redact: 'input.messages', guardrail: 'pii' }] },
  { id: 'no-pii-back', effect: 'transform', when: { kind: 'llm_output', detect: { guardrail: 'pii', in: 'input.content' } }, transform: [{ redact: 'input.content', guardrail: 'pii' }] },
];
const EMAIL_ANSWERS = [
  ...POLICY_ONLY,
  {
    id: 'answer-emails',
    effect: 'transform',
    when: { kind: 'llm_output', detect: { guardrail: 'pii', in: 'input.content', types: ['EMAIL_ADDRESS'] } },
    transform: [{ redact: 'input.content', guardrail: 'pii', types: ['EMAIL_ADDRESS'] }],
  },
];

const FILLER = 'The customer ordered a blue kettle and a set of mugs; the parcel left the warehouse on Monday. ';

/** A 2 KB prompt: system prompt, earlier turns and the question, every text of it different on every call. */
function prompt(i) {
  const messages = [
    { role: 'system', content: `You are the support assistant of shop ${i}. Answer briefly and politely. ${FILLER}` },
    { role: 'user', content: `Order ${1000 + i}: where is my parcel? ${FILLER}` },
    { role: 'assistant', content: `Let me look up order ${1000 + i}. ${FILLER}` },
    { role: 'user', content: `It was supposed to arrive on the ${i}th. ${FILLER.repeat(6)}` },
    { role: 'user', content: `Can I get a refund for order ${1000 + i} if it does not arrive by Friday? ${FILLER.repeat(5)}` },
  ];
  return { model: 'gpt-4o-mini', messages };
}

/** The same 2 KB as one conversation: the system prompt and history are sent again with every call; the question is new. */
function conversationPrompt(i) {
  const messages = [
    { role: 'system', content: `You are the support assistant of an online shop. Answer briefly and politely. ${FILLER}` },
    { role: 'user', content: `Where is my parcel? ${FILLER}` },
    { role: 'assistant', content: `Let me look up your order. ${FILLER}` },
    { role: 'user', content: `It was supposed to arrive yesterday. ${FILLER.repeat(6)}` },
    { role: 'user', content: `Question ${i}: can I get a refund if it does not arrive by Friday? ${FILLER.repeat(5)}` },
  ];
  return { model: 'gpt-4o-mini', messages };
}

function guardFor(rules, dataDir) {
  const policy = Policy.parse({ version: 1, name: 'bench-llm', default: 'deny', rules });
  return new AgentGuard({ policy, agentId: 'bench', ...(dataDir ? { dataDir } : { audit: false }) });
}

async function timeCalls({ client, prompt }, n, offset) {
  const samples = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const t0 = process.hrtime.bigint();
    await client.chat.completions.create(prompt(offset + i));
    samples[i] = Number(process.hrtime.bigint() - t0);
  }
  return samples;
}

/** Runs the clients in alternating blocks; returns each one's latency summary in microseconds. */
async function interleaved(clients, calls) {
  const block = 100;
  const all = clients.map(() => []);
  // Warm-up (connections, JIT, model load) on numbers the measured calls never use, so no text repeats by accident.
  for (const client of clients) await timeCalls(client, 50, 1_000_000);
  for (let done = 0; done < calls; done += block) {
    for (let k = 0; k < clients.length; k++) all[k].push(...(await timeCalls(clients[k], Math.min(block, calls - done), done)));
  }
  return all.map((samples) => summarize(Float64Array.from(samples)));
}

async function timeToFirstText(client, n) {
  const samples = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const t0 = process.hrtime.bigint();
    const stream = await client.chat.completions.create({ ...prompt(i), stream: true });
    let first = 0;
    for await (const chunk of stream) {
      if (first === 0 && chunk.choices[0]?.delta?.content) first = Number(process.hrtime.bigint() - t0);
    }
    samples[i] = first;
  }
  return summarize(samples);
}

const ms = (us) => (us / 1000).toFixed(3);

export async function run({ log }) {
  const dataDir = mkdtempSync(join(tmpdir(), 'agentguard-bench-llm-'));
  // A different answer to every request, so the output guardrails never see the same text twice.
  const provider = await startFakeOpenAI({ answer: (body, n) => ({ content: `${ANSWER}Reference ${n}.` }) });
  const streaming = await startFakeOpenAI({ answer: () => ({ content: ANSWER }), chunkChars: 12, chunkDelayMs: 5 });
  const guards = [];
  const options = (baseURL) => ({ apiKey: 'bench-key', baseURL, maxRetries: 0 });
  const guarded = (rules, baseURL, name) => {
    const guard = guardFor(rules, name && join(dataDir, name));
    guards.push(guard);
    return new GuardedOpenAI({ ...options(baseURL), guard });
  };
  const failures = [];
  try {
    log(`  ${CALLS} calls per client, 2 KB prompt, ${ANSWER.length}-character answer; each guarded client alternates with the plain one`);
    // One guard alive at a time, as in an agent's process; each is measured against the plain client in the same
    // stretch of time, so a busy spell of the machine hits both sides of a comparison alike.
    const plainClient = { client: new OpenAI(options(provider.baseURL)), prompt };
    await timeCalls(plainClient, 300, 2_000_000); // the first pair must not pay for the HTTP stack's warm-up
    const variants = [
      { key: 'noAudit', rules: POLICY_ONLY, dir: undefined, prompt },
      { key: 'policy', rules: POLICY_ONLY, dir: 'policy', prompt },
      { key: 'all', rules: ALL_GUARDRAILS, dir: 'all', prompt },
      { key: 'conversation', rules: ALL_GUARDRAILS, dir: 'conversation', prompt: conversationPrompt },
    ];
    const measured = {};
    for (const variant of variants) {
      const guard = guardFor(variant.rules, variant.dir && join(dataDir, variant.dir));
      try {
        const [plain, client] = await interleaved([plainClient, { client: new GuardedOpenAI({ ...options(provider.baseURL), guard }), prompt: variant.prompt }], CALLS);
        measured[variant.key] = { plain, client, added: (client.p50 - plain.p50) / 1000 };
      } finally {
        await guard.close();
      }
    }
    const { noAudit, policy: policyOnly, all: allGuardrails, conversation } = measured;
    log(`  streams: ${STREAMS} per client, ${12}-character chunks every 5 ms`);
    const plainStream = new OpenAI(options(streaming.baseURL));
    await timeToFirstText(plainStream, 3);
    const ttft = {
      plain: await timeToFirstText(plainStream, STREAMS),
      policy: await timeToFirstText(guarded(POLICY_ONLY, streaming.baseURL, 'stream-policy'), STREAMS),
      email: await timeToFirstText(guarded(EMAIL_ANSWERS, streaming.baseURL, 'stream-email'), STREAMS),
    };
    const verdict = (value, target) => (value <= target ? `met (≤ ${target} ms)` : `**not met** (target ≤ ${target} ms)`);
    const row = (label, m, target) => [label, ms(m.client.p50), ms(m.client.p99), ms(m.plain.p50), m.added.toFixed(3), target];
    const rows = [
      row('GuardedOpenAI, policy only, audit off', noAudit, '(the engine alone)'),
      row('GuardedOpenAI, policy only', policyOnly, verdict(policyOnly.added, TARGETS.policyOnlyMs)),
      row('GuardedOpenAI, all guardrails, 2 KB prompt, every text new', allGuardrails, verdict(allGuardrails.added, TARGETS.allGuardrailsMs)),
      row('GuardedOpenAI, all guardrails, 2 KB conversation (history resent)', conversation, '(findings of resent texts remembered)'),
    ];
    const streamRows = [
      ['plain `openai` client', ms(ttft.plain.p50), ms(ttft.plain.p99), '—'],
      ['GuardedOpenAI, policy only (hold-back 0)', ms(ttft.policy.p50), ms(ttft.policy.p99), ((ttft.policy.p50 - ttft.plain.p50) / 1000).toFixed(3)],
      ['GuardedOpenAI, e-mail redaction in answers (hold-back 254)', ms(ttft.email.p50), ms(ttft.email.p99), ((ttft.email.p50 - ttft.plain.p50) / 1000).toFixed(3)],
    ];
    const markdown = [
      `Non-streaming \`chat.completions.create\`, ${CALLS} calls each, local mode with the audit trail on unless said (every call commits twice before it returns: the request's decision before sending, then the answer's decision with the call's outcome and ledger row):`,
      '',
      markdownTable(['client', 'p50 ms', 'p99 ms', 'plain client p50 ms, same stretch', 'added p50 ms', 'target'], rows, ['l', 'r', 'r', 'r', 'r', 'l']),
      '',
      `Streams, time to the first text chunk (${STREAMS} streams each; the fake provider sends 12 characters every 5 ms, so holding back 254 characters costs about 22 chunks):`,
      '',
      markdownTable(['client', 'p50 ms', 'p99 ms', 'added p50 ms'], streamRows, ['l', 'r', 'r', 'r']),
    ].join('\n');
    if (!(policyOnly.added > -1 && allGuardrails.added > -1)) failures.push('the guarded client measured faster than the plain one by over 1 ms: the measurement is broken');
    return { markdown, failures };
  } finally {
    for (const guard of guards) await guard.close();
    await provider.close();
    await streaming.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
