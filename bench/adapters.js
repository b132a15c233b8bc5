/**
 * Bench section: what each framework adapter adds per model call and per tool call, against the same framework doing
 * the same calls without agentguard, measured side by side in one run (the same fake provider, the same process,
 * alternating blocks). Each framework's measurement lives in its own file (bench/adapters-<framework>.js).
 */
import * as aiSdk from './adapters-ai-sdk.js';
import * as langchain from './adapters-langchain.js';
import * as openaiAgents from './adapters-openai-agents.js';
import { formatUs, markdownTable } from './lib/report.js';

export const id = 'adapters';
export const title = 'Framework adapters: added latency per model call and per tool call';

const FRAMEWORKS = [aiSdk, langchain, openaiAgents];

/** A difference of p50s: below the noise of a busy machine it can come out negative; it is shown as measured. */
const signedUs = (us) => (us < 0 ? `−${formatUs(-us)}` : formatUs(us));

export async function run({ log }) {
  const rows = [];
  const failures = [];
  for (const framework of FRAMEWORKS) {
    try {
      rows.push(...(await framework.measure({ log })));
    } catch (error) {
      failures.push(`adapter bench: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  const table = markdownTable(
    ['framework', 'step', 'without agentguard p50 (µs)', 'with agentguard p50 (µs)', 'added p50 (µs)', 'added CPU p50 (µs)', 'samples per side'],
    rows.map((r) => [r.framework, r.what, formatUs(r.plainP50Us), formatUs(r.guardedP50Us), signedUs(r.addedP50Us), r.addedCpuP50Us === undefined ? '—' : signedUs(r.addedCpuP50Us), String(r.samples)]),
    ['l', 'l', 'r', 'r', 'r', 'r', 'r'],
  );
  const notes = [
    'Local mode with the audit trail on (each decision durable before the call goes on), a policy of rules without guardrails: the engine\'s own cost.',
    'A model call is decided as `llm` before it is sent and its answer as `llm_output`, with the outcome and usage recorded; a tool call is decided as `tool`, its outcome recorded and its result decided as `tool_output`.',
    'The fake provider answers on 127.0.0.1 (demo/fake-openai.js); `BENCH_ADAPTER_CALLS` sets the calls per side (default 400).',
    'Added CPU: the difference of the p50s of this process\'s CPU time per step (the fake provider runs in it too, alike on both sides): on a busy machine the wall time is mostly waiting (for the CPU, and for the disk each decision\'s audit record is made durable on), and the CPU an adapter takes is the steadier figure.',
  ];
  return { markdown: `${table}\n\n${notes.join('\n')}`, failures };
}
