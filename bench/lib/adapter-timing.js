/**
 * Timing shared by the framework adapter benches: the same agent step (one model call, or one tool call) run with
 * and without the adapter, alternating in blocks so a busy spell of the machine hits both alike; p50 in microseconds.
 */
import { summarize } from './measure.js';

/**
 * Wall time and this process's CPU time (user + system, in ns) of each step. On a machine other work keeps busy, the
 * wall time of a step is mostly waiting; the CPU it takes is the steadier measure of what the adapter itself adds.
 */
async function timeSteps(step, n, offset) {
  const samples = new Float64Array(n);
  const cpu = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    await step(offset + i);
    samples[i] = Number(process.hrtime.bigint() - t0);
    const used = process.cpuUsage(c0);
    cpu[i] = (used.user + used.system) * 1000;
  }
  return { samples, cpu };
}

/** Runs each step `calls` times in alternating blocks after a warm-up; returns each one's latency summary (µs), with its CPU p50. */
export async function interleavedSteps(steps, calls, { warmup = 200, block = 25 } = {}) {
  const all = steps.map(() => []);
  const cpu = steps.map(() => []);
  for (const step of steps) await timeSteps(step, warmup, 1_000_000);
  for (let done = 0; done < calls; done += block) {
    for (let k = 0; k < steps.length; k++) {
      const timed = await timeSteps(steps[k], Math.min(block, calls - done), done);
      all[k].push(...timed.samples);
      cpu[k].push(...timed.cpu);
    }
  }
  return all.map((samples, k) => ({ ...summarize(Float64Array.from(samples)), cpuP50: summarize(Float64Array.from(cpu[k])).p50 }));
}

/** A row of the side-by-side table: the framework alone, with the adapter, and the differences of the p50s (wall and CPU). */
export function sideBySide(framework, what, plain, guarded) {
  return {
    framework,
    what,
    plainP50Us: plain.p50,
    guardedP50Us: guarded.p50,
    addedP50Us: guarded.p50 - plain.p50,
    addedCpuP50Us: guarded.cpuP50 - plain.cpuP50,
    samples: Math.min(plain.samples, guarded.samples),
  };
}

/** The policy every adapter section runs under: model calls and the kb_search tool allowed, no guardrails. */
export function adapterBenchPolicy(name) {
  return {
    version: 1,
    name,
    default: 'deny',
    rules: [
      { id: 'models', effect: 'allow', when: { kind: { in: ['llm', 'llm_output', 'tool_output'] } } },
      { id: 'kb', effect: 'allow', when: { kind: 'tool', name: 'kb_search' } },
    ],
  };
}

/** The fake model: a tool call when the question asks for one, a short answer otherwise and after a tool result. */
export function kbAnswer(body, n) {
  const last = body.messages.at(-1);
  if (last.role === 'user' && String(last.content).startsWith('search')) {
    return { tool_calls: [{ id: `call_${n}`, type: 'function', function: { name: 'kb_search', arguments: JSON.stringify({ query: `refunds ${n}` }) } }] };
  }
  return { content: `Refunds take five working days (${n}).` };
}
