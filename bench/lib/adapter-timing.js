/**
 * Timing shared by the framework adapter benches: the same agent step (one model call, or one tool call) run with
 * and without the adapter, alternating in blocks so a busy spell of the machine hits both alike; p50 in microseconds.
 */
import { summarize } from './measure.js';

async function timeSteps(step, n, offset) {
  const samples = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const t0 = process.hrtime.bigint();
    await step(offset + i);
    samples[i] = Number(process.hrtime.bigint() - t0);
  }
  return samples;
}

/** Runs each step `calls` times in alternating blocks after a warm-up; returns each one's latency summary (µs). */
export async function interleavedSteps(steps, calls, { warmup = 200, block = 25 } = {}) {
  const all = steps.map(() => []);
  for (const step of steps) await timeSteps(step, warmup, 1_000_000);
  for (let done = 0; done < calls; done += block) {
    for (let k = 0; k < steps.length; k++) all[k].push(...(await timeSteps(steps[k], Math.min(block, calls - done), done)));
  }
  return all.map((samples) => summarize(Float64Array.from(samples)));
}

/** A row of the side-by-side table: the framework alone, with the adapter, and the difference of the p50s. */
export function sideBySide(framework, what, plain, guarded) {
  return { framework, what, plainP50Us: plain.p50, guardedP50Us: guarded.p50, addedP50Us: guarded.p50 - plain.p50, samples: Math.min(plain.samples, guarded.samples) };
}
